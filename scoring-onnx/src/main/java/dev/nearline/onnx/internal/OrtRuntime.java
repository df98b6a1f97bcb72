package dev.nearline.onnx.internal;

import ai.onnxruntime.OrtEnvironment;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URL;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * The process-wide ONNX Runtime environment, and the class-path check that runs before the native
 * library is first loaded. Thread-safe; the environment is never closed (ONNX Runtime closes it in a
 * shutdown hook).
 */
public final class OrtRuntime {
    /** Resource present in the CPU artifact only. */
    static final String CPU_POM = "META-INF/maven/com.microsoft.onnxruntime/onnxruntime/pom.xml";
    /** Resource present in the GPU artifact only. */
    static final String GPU_POM = "META-INF/maven/com.microsoft.onnxruntime/onnxruntime_gpu/pom.xml";

    private static volatile boolean classPathChecked;

    private OrtRuntime() {
    }

    /**
     * The shared environment, after checking once that exactly one ONNX Runtime artifact is on the
     * class path.
     *
     * @throws IllegalStateException when both the CPU and the GPU artifact are present
     */
    public static OrtEnvironment environment() {
        if (!classPathChecked) {
            checkSingleRuntime(OrtEnvironment.class.getClassLoader());
            classPathChecked = true;
        }
        return OrtEnvironment.getEnvironment();
    }

    /**
     * Fails when {@code loader} sees both {@code com.microsoft.onnxruntime:onnxruntime} and
     * {@code onnxruntime_gpu}, or two copies of the native library for this platform: they share
     * package and resource names, so whichever comes first would silently win.
     *
     * @throws IllegalStateException naming the jars found
     */
    public static void checkSingleRuntime(ClassLoader loader) {
        List<URL> cpu = resources(loader, CPU_POM);
        List<URL> gpu = resources(loader, GPU_POM);
        List<URL> natives = resources(loader, nativeLibraryResource());
        if ((!cpu.isEmpty() && !gpu.isEmpty()) || natives.size() > 1) {
            List<String> where = new ArrayList<>();
            for (URL u : cpu) {
                where.add(jarOf(u));
            }
            for (URL u : gpu) {
                where.add(jarOf(u));
            }
            for (URL u : natives) {
                String jar = jarOf(u);
                if (!where.contains(jar)) {
                    where.add(jar);
                }
            }
            throw new IllegalStateException("more than one ONNX Runtime on the class path " + where
                    + ": keep exactly one of com.microsoft.onnxruntime:onnxruntime (CPU) and "
                    + "com.microsoft.onnxruntime:onnxruntime_gpu (CUDA/TensorRT), for example by excluding "
                    + "onnxruntime from scoring-onnx when you add onnxruntime_gpu");
        }
    }

    /** The jar resource path of ONNX Runtime's main native library on this platform. */
    static String nativeLibraryResource() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        String a = arch.equals("amd64") || arch.equals("x86_64") ? "x64"
                : arch.equals("arm64") ? "aarch64" : arch;
        if (os.contains("win")) {
            return "ai/onnxruntime/native/win-" + a + "/onnxruntime.dll";
        } else if (os.contains("mac") || os.contains("darwin")) {
            return "ai/onnxruntime/native/osx-" + a + "/libonnxruntime.dylib";
        }
        return "ai/onnxruntime/native/linux-" + a + "/libonnxruntime.so";
    }

    private static List<URL> resources(ClassLoader loader, String name) {
        try {
            return Collections.list(loader.getResources(name));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot scan the class path for " + name, e);
        }
    }

    private static String jarOf(URL url) {
        String s = url.toString();
        int bang = s.indexOf("!/");
        return bang >= 0 ? s.substring(0, bang) : s;
    }
}
