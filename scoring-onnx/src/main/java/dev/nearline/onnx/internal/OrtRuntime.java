package dev.nearline.onnx.internal;

import ai.onnxruntime.OrtEnvironment;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URL;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

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
    private static volatile @org.jspecify.annotations.Nullable OrtEnvironment environment;

    /**
     * Stack for the thread that initialises ONNX Runtime. Its native start-up (1.29.0) recurses in
     * proportion to the length of the process command line and overflows a default 1 MiB thread stack
     * once that is a few thousand characters long (a long -cp or -D option), killing the JVM with SIGSEGV
     * and no hs_err file. Reserved address space only; the pages used are committed on demand.
     */
    private static final long INIT_STACK_BYTES = 256L << 20;

    private OrtRuntime() {
    }

    /**
     * The shared environment, after checking once that exactly one ONNX Runtime artifact is on the
     * class path.
     *
     * @throws IllegalStateException when both the CPU and the GPU artifact are present
     */
    public static OrtEnvironment environment() {
        OrtEnvironment env = environment;
        if (env != null) {
            return env;
        }
        synchronized (OrtRuntime.class) {
            if (environment == null) {
                if (!classPathChecked) {
                    checkSingleRuntime(OrtEnvironment.class.getClassLoader());
                    classPathChecked = true;
                }
                environment = initOnLargeStack();
            }
            return environment;
        }
    }

    /** Loads the native library and creates the environment on a thread with a large stack; see {@link #INIT_STACK_BYTES}. */
    private static OrtEnvironment initOnLargeStack() {
        OrtEnvironment[] result = new OrtEnvironment[1];
        Throwable[] failure = new Throwable[1];
        Thread t = new Thread(null, () -> {
            try {
                result[0] = OrtEnvironment.getEnvironment();
            } catch (Throwable e) {
                failure[0] = e;
            }
        }, "nearline-onnxruntime-init", INIT_STACK_BYTES);
        t.setDaemon(true);
        t.start();
        boolean interrupted = false;
        while (true) {
            try {
                t.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true; // the native start-up cannot be abandoned halfway; finish it first
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        if (failure[0] instanceof RuntimeException) {
            throw (RuntimeException) failure[0];
        } else if (failure[0] instanceof Error) {
            throw (Error) failure[0];
        } else if (failure[0] != null) {
            throw new IllegalStateException("ONNX Runtime failed to start: " + failure[0], failure[0]);
        }
        return result[0];
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
            Set<String> where = new LinkedHashSet<>();
            for (URL u : cpu) {
                where.add(origin(u, CPU_POM));
            }
            for (URL u : gpu) {
                where.add(origin(u, GPU_POM));
            }
            for (URL u : natives) {
                where.add(origin(u, nativeLibraryResource()));
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

    /** The jar (or class-path folder) that served {@code resource} at {@code url}. */
    private static String origin(URL url, String resource) {
        String s = url.toString();
        int bang = s.indexOf("!/");
        if (s.startsWith("jar:") && bang > 0) {
            s = s.substring("jar:".length(), bang);
        } else if (s.endsWith(resource)) {
            s = s.substring(0, s.length() - resource.length());
        }
        return s.startsWith("file:") ? s.substring("file:".length()) : s;
    }
}
