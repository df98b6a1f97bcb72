package dev.nearline.durable.testing;

import com.azure.storage.blob.BlobContainerClient;
import com.azure.storage.blob.BlobServiceClientBuilder;
import com.azure.storage.blob.models.BlobItem;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Azurite's blob service (the real Azure Storage emulator, npm package {@code azurite}) for a test class:
 * started before its tests on a free loopback port with a temporary workspace, stopped after them. Register
 * with {@code @RegisterExtension static final Azurite azurite = new Azurite();}.
 *
 * <p>Azurite is looked for in {@code .ci/azurite} (system property {@code nearline.azurite.dir}, which the
 * build sets), where {@code .ci/install-azurite} puts the version pinned in its {@code package.json}; when it
 * is missing and npm is present, it is installed there first (once, under a file lock). Only when Node.js
 * or npm is absent are the tests skipped, with a message saying so. It serves the tests of both
 * adapters (scoring-keda-adapter takes it from this module's test jar).
 */
public final class Azurite implements BeforeAllCallback, AfterAllCallback {
    /** The emulator's well-known development account (published in Azure's documentation). */
    public static final String ACCOUNT = "devstoreaccount1";
    private static final String KEY =
            "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
    private static final Pattern LISTENING = Pattern.compile("successfully listens on http://127\\.0\\.0\\.1:(\\d+)");
    private static final Duration INSTALL_TIMEOUT = Duration.ofMinutes(10);
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(10);

    private final Deque<String> output = new ArrayDeque<>();
    private Process process;
    private Path workspace;
    private int port;

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        Path dir = installDir();
        Path bin = dir.resolve("node_modules/.bin/azurite-blob");
        Assumptions.assumeTrue(onPath("node"), "Node.js is not installed, so Azurite (the Azure Storage emulator) "
                + "cannot run: skipping the Blob payload-store tests. Install Node.js 20+ and npm, then .ci/install-azurite");
        if (!Files.isExecutable(bin)) {
            Assumptions.assumeTrue(onPath("npm"), "npm is not installed, so Azurite cannot be installed into " + dir
                    + ": skipping the Blob payload-store tests");
            install(dir, bin);
        }
        workspace = Files.createTempDirectory("azurite-");
        ProcessBuilder pb = new ProcessBuilder(bin.toString(), "--blobHost", "127.0.0.1", "--blobPort", "0", "--location",
                workspace.toString(), "--skipApiVersionCheck", "--loose", "--disableTelemetry")
                .redirectErrorStream(true);
        Process started = pb.start();
        process = started;
        // should the test JVM die without afterAll
        Runtime.getRuntime().addShutdownHook(new Thread(started::destroyForcibly, "azurite-stop"));
        CompletableFuture<Integer> listening = new CompletableFuture<>();
        Thread reader = new Thread(() -> drain(listening), "azurite-output");
        reader.setDaemon(true);
        reader.start();
        try {
            port = listening.get(START_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            awaitPort(port, START_TIMEOUT);
        } catch (TimeoutException | ExecutionException e) {
            stop();
            throw new IllegalStateException("Azurite did not start within " + START_TIMEOUT.toSeconds() + " s; its output: "
                    + lastOutput(), e);
        }
    }

    @Override
    public void afterAll(ExtensionContext context) {
        stop();
    }

    /** The blob service's port. */
    public int port() {
        return port;
    }

    /** A connection string for the development account on this instance. */
    public String connectionString() {
        return "DefaultEndpointsProtocol=http;AccountName=" + ACCOUNT + ";AccountKey=" + KEY + ";BlobEndpoint=http://127.0.0.1:"
                + port + "/" + ACCOUNT + ";";
    }

    /** Creates the container {@code name} (if missing) and returns a client for it. */
    public BlobContainerClient container(String name) {
        BlobContainerClient c = new BlobServiceClientBuilder().connectionString(connectionString()).buildClient()
                .getBlobContainerClient(name);
        c.createIfNotExists();
        return c;
    }

    /** The names of the blobs in {@code container}, sorted. */
    public static List<String> names(BlobContainerClient container) {
        return container.listBlobs().stream().map(BlobItem::getName).sorted().toList();
    }

    private void stop() {
        Process p = process;
        if (p != null) {
            p.destroy();
            try {
                if (!p.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                    p.destroyForcibly().waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                }
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
            }
            process = null;
        }
        if (workspace != null) {
            try (Stream<Path> files = Files.walk(workspace)) {
                files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            } catch (IOException e) {
                // a temp folder left behind is harmless
            }
            workspace = null;
        }
    }

    private void drain(CompletableFuture<Integer> listening) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                synchronized (output) {
                    output.addLast(line);
                    if (output.size() > 40) {
                        output.removeFirst();
                    }
                }
                Matcher m = LISTENING.matcher(line);
                if (m.find()) {
                    listening.complete(Integer.parseInt(m.group(1)));
                }
            }
        } catch (IOException e) {
            // the process ended
        }
        listening.completeExceptionally(new IllegalStateException("Azurite exited"));
    }

    private String lastOutput() {
        synchronized (output) {
            return String.join(" | ", output);
        }
    }

    private static void awaitPort(int port, Duration within) throws TimeoutException {
        long deadline = System.nanoTime() + within.toNanos();
        while (true) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 500);
                return;
            } catch (IOException e) {
                if (System.nanoTime() > deadline) {
                    throw new TimeoutException("port " + port + " did not accept connections");
                }
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20)); // poll again shortly; bounded by the deadline
            }
        }
    }

    private static Path installDir() {
        String configured = System.getProperty("nearline.azurite.dir");
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured);
        }
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isDirectory(dir.resolve(".ci/azurite"))) {
            dir = dir.getParent();
        }
        if (dir == null) {
            throw new IllegalStateException("cannot find .ci/azurite above " + Path.of("").toAbsolutePath()
                    + "; set the system property nearline.azurite.dir");
        }
        return dir.resolve(".ci/azurite");
    }

    /** Runs {@code npm ci} in {@code dir}, once across concurrent test JVMs. */
    private static void install(Path dir, Path bin) throws IOException, InterruptedException {
        try (FileChannel lockFile = FileChannel.open(dir.resolve(".install.lock"), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE)) {
            FileLock lock = lockFile.lock();
            try {
                installLocked(dir, bin);
            } finally {
                lock.release();
            }
        }
    }

    private static void installLocked(Path dir, Path bin) throws IOException, InterruptedException {
        if (Files.isExecutable(bin)) {
            return; // another JVM installed it while this one waited
        }
        Process npm = new ProcessBuilder("npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error")
                .directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("install.log").toFile()).start();
        if (!npm.waitFor(INSTALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
            npm.destroyForcibly();
            throw new IllegalStateException("npm ci in " + dir + " did not finish within " + INSTALL_TIMEOUT.toMinutes()
                    + " min; see " + dir.resolve("install.log"));
        }
        if (npm.exitValue() != 0 || !Files.isExecutable(bin)) {
            throw new IllegalStateException("npm ci in " + dir + " failed (exit " + npm.exitValue() + "); see "
                    + dir.resolve("install.log"));
        }
    }

    private static boolean onPath(String command) {
        String path = System.getenv("PATH");
        if (path == null) {
            return false;
        }
        for (String d : path.split(File.pathSeparator)) {
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, command))) {
                return true;
            }
        }
        return false;
    }
}
