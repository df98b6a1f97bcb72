package dev.nearline.onnx;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs a test class's {@code main} in a child JVM on the test class path, for checks that need their own JVM
 * options (a small direct-memory limit) or a process of their own to measure (its resident memory). The child
 * reports with {@code key=value} lines on standard output.
 */
final class ChildJvm {
    /** What a child printed and how it ended. */
    static final class Result {
        final int exitCode;
        final String output;
        final Map<String, String> values;

        private Result(int exitCode, String output) {
            this.exitCode = exitCode;
            this.output = output;
            this.values = new LinkedHashMap<>();
            for (String line : output.split("\\R")) {
                int eq = line.indexOf('=');
                if (eq > 0 && line.substring(0, eq).matches("[A-Za-z0-9.]+")) {
                    values.putIfAbsent(line.substring(0, eq), line.substring(eq + 1));
                }
            }
        }

        /** The value of a {@code key=value} line, or a failure that shows the whole output. */
        String get(String key) {
            String v = values.get(key);
            if (v == null) {
                throw new AssertionError("child printed no '" + key + "='; exit code " + exitCode + ", output:\n" + output);
            }
            return v;
        }

        long getLong(String key) {
            return Long.parseLong(get(key));
        }
    }

    private ChildJvm() {
    }

    /**
     * Runs {@code main} with {@code jvmOptions} and {@code args}, waiting at most {@code timeout} (then the child
     * is killed and the test fails). Output goes through a file in {@code dir}, so a chatty child never blocks
     * on a full pipe.
     */
    static Result run(Path dir, Duration timeout, List<String> jvmOptions, Class<?> main, String... args)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmOptions);
        command.add("-cp");
        command.add(System.getProperty("java.class.path") + File.pathSeparator
                + System.getProperty("surefire.test.class.path", ""));
        command.add(main.getName());
        command.addAll(List.of(args));
        Path out = Files.createTempFile(dir, "child", ".txt");
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile());
        pb.environment().put("MALLOC_ARENA_MAX", "2"); // fewer glibc arenas: steadier resident memory
        Process p = pb.start();
        try {
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new AssertionError("child JVM " + main.getSimpleName() + " still running after " + timeout
                        + "; output so far:\n" + read(out));
            }
        } finally {
            p.destroyForcibly();
        }
        return new Result(p.exitValue(), read(out));
    }

    private static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** This process's resident set size in bytes ({@code VmRSS} of {@code /proc/self/status}), or -1 elsewhere. */
    static long residentBytes() {
        Path status = Path.of("/proc/self/status");
        if (!Files.isReadable(status)) {
            return -1;
        }
        try {
            for (String line : Files.readAllLines(status, StandardCharsets.US_ASCII)) {
                if (line.startsWith("VmRSS:")) {
                    String kb = line.substring("VmRSS:".length()).trim();
                    return Long.parseLong(kb.substring(0, kb.indexOf(' '))) * 1024;
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return -1;
    }
}
