package dev.nearline.benchmarks;

import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.net.URLConnection;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Locale;

/**
 * The native-library cache: copies ONNX Runtime's two native libraries for this platform out of the
 * {@code onnxruntime} jar on the class path into a folder, once, so that later JVMs load them from
 * there with {@code -Donnxruntime.native.path=DIR} instead of copying 28 MB to a temporary folder on
 * every start. Files already present with the same size are left alone; re-run after upgrading ONNX
 * Runtime (a new version has different files).
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar dev.nearline.benchmarks.ExtractNatives /var/cache/nearline/ort
 * java -Donnxruntime.native.path=/var/cache/nearline/ort -jar app.jar
 * </pre>
 */
public final class ExtractNatives {
    private ExtractNatives() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: ExtractNatives DIR");
            System.exit(2);
            return;
        }
        Path dir = Files.createDirectories(Path.of(args[0]));
        String folder = "ai/onnxruntime/native/" + platform() + "/";
        for (String lib : libraries()) {
            URL resource = ExtractNatives.class.getClassLoader().getResource(folder + lib);
            if (resource == null) {
                throw new IOException("no " + folder + lib + " on the class path: is com.microsoft.onnxruntime:"
                        + "onnxruntime (not onnxruntime_gpu) on it, and is this platform supported?");
            }
            URLConnection connection = resource.openConnection();
            Path target = dir.resolve(lib);
            if (Files.exists(target) && Files.size(target) == connection.getContentLengthLong()) {
                continue;
            }
            Path tmp = Files.createTempFile(dir, lib, ".part");
            try (InputStream in = connection.getInputStream()) {
                Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(tmp);
            }
        }
        System.out.println("-Donnxruntime.native.path=" + dir.toAbsolutePath());
    }

    /** ONNX Runtime's resource folder name for this OS and CPU, such as {@code linux-x64}. */
    static String platform() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        String a = arch.equals("amd64") || arch.equals("x86_64") ? "x64"
                : arch.equals("aarch64") || arch.equals("arm64") ? "aarch64" : arch;
        String o = os.contains("win") ? "win" : os.contains("mac") || os.contains("darwin") ? "osx" : "linux";
        return o + "-" + a;
    }

    private static List<String> libraries() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        if (os.contains("win")) {
            return List.of("onnxruntime.dll", "onnxruntime4j_jni.dll");
        } else if (os.contains("mac") || os.contains("darwin")) {
            return List.of("libonnxruntime.dylib", "libonnxruntime4j_jni.dylib");
        }
        return List.of("libonnxruntime.so", "libonnxruntime4j_jni.so");
    }
}
