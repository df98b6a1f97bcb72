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
 * The process-wide ONNX Runtime environment, and what the caller does while the native library is first
 * loaded: the class-path check, which fails the environment's first use when two runtimes are on the class path,
 * then {@link Preload}, which loads the classes the first score needs. Thread-safe; the environment is never closed (ONNX Runtime closes it in a
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
     * The shared environment, once it is checked that exactly one ONNX Runtime artifact is on the class path.
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
                environment = initOnLargeStack();
            }
            return environment;
        }
    }

    /** Loads the native library and creates the environment on a thread with a large stack; see {@link #INIT_STACK_BYTES}. */
    private static OrtEnvironment initOnLargeStack() {
        Init init = new Init();
        Thread t = new Thread(null, init, "nearline-onnxruntime-init", INIT_STACK_BYTES);
        t.setDaemon(true);
        t.start();
        // The class-path check runs meanwhile (a few ms of a cold start, on the core the waiting caller leaves
        // idle). Loading first cannot mix two runtimes up: ONNX Runtime takes its classes and its native
        // library from the same class loader, so from the same (first) jar. A conflict then fails this call, and
        // every later one, before the environment is used.
        RuntimeException conflict = null;
        if (!classPathChecked) {
            try {
                checkSingleRuntime(OrtEnvironment.class.getClassLoader());
                classPathChecked = true;
            } catch (RuntimeException e) {
                conflict = e;
            }
        }
        // Then the classes the model build, the engine and the first score will need, until the start-up is done.
        if (conflict == null) {
            Preload.whileAlive(t, OrtRuntime.class.getClassLoader());
        }
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
        if (conflict != null) {
            throw conflict;
        }
        Throwable failure = init.failure;
        if (failure instanceof RuntimeException) {
            throw (RuntimeException) failure;
        } else if (failure instanceof Error) {
            throw (Error) failure;
        } else if (failure != null) {
            throw new IllegalStateException("ONNX Runtime failed to start: " + failure, failure);
        }
        return java.util.Objects.requireNonNull(init.result);
    }

    /**
     * The native start-up, on the large-stack thread; a class rather than a lambda, because the JVM's first lambda
     * costs several milliseconds of a cold start (and this is usually the first). Read after {@code join}.
     */
    private static final class Init implements Runnable {
        @org.jspecify.annotations.Nullable OrtEnvironment result;
        @org.jspecify.annotations.Nullable Throwable failure;

        @Override
        public void run() {
            try {
                result = OrtEnvironment.getEnvironment();
            } catch (Throwable e) { // NOPMD: handed to the caller, which rethrows it
                failure = e;
            }
        }
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
