package dev.nearline.triton;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import ai.onnxruntime.OrtException;
import dev.nearline.api.DataType;
import dev.nearline.api.Model;
import dev.nearline.api.Tensor;
import dev.nearline.api.Tensors;
import dev.nearline.core.ManagedScorer;
import dev.nearline.core.Pipeline;
import dev.nearline.onnx.OnnxModel;
import dev.nearline.onnx.testing.ModelInputs;
import dev.nearline.onnx.testing.SharedModels;
import dev.nearline.triton.server.KServeTestServer;
import dev.nearline.triton.server.OrtBackend;
import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The same pipeline (identity preprocessor over a {@link Tensors} record, one model step, identity
 * postprocessor) scored for every model of {@code ../shared/models} twice: with {@link OnnxModel}
 * in-process, and with {@link TritonModel} against the KServe v2 test server serving the same
 * {@code .onnx} file through the same ONNX Runtime, over REST with binary tensors, REST with JSON
 * tensors and gRPC. One test per model and protocol; the outputs must be identical: same names in the
 * same order, datatypes, shapes and bytes (floats bit for bit: one ONNX Runtime computes both sides,
 * each session with one intra-op thread).
 *
 * <p>Inputs are a folder's reference inputs ({@code test_data_set_0}) or, without them, generated from
 * the model's signature with the settings of {@code checks.properties}, as the onnx module's conformance
 * test does. Models whose tensors the protocol or the client cannot carry are skipped with the reason;
 * the last test asserts how many were carried per protocol, so that a change that loses models fails.
 */
class SharedModelsThroughTritonTest {
    /**
     * Models carried per protocol when this test was written, out of 85 folders (a lower count fails).
     * The 20 skipped by every protocol: 15 with ZipMap-style {@code sequence<map>} outputs, one with a
     * {@code sequence<tensor>} output, three with map or sequence inputs, one with a UINT16 input. REST
     * JSON also skips the 8 models with FP16/BF16 tensors and one whose reference input holds a NaN.
     */
    private static final Map<Protocol, Integer> EXPECTED_CARRIED = Map.of(
            Protocol.REST_BINARY, 65, Protocol.REST_JSON, 56, Protocol.GRPC, 65);

    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);

    private static KServeTestServer server;
    private static final Map<Protocol, List<String>> CARRIED = Collections.synchronizedMap(new EnumMap<>(Protocol.class));
    private static final Map<String, String> SKIPPED = Collections.synchronizedMap(new TreeMap<>());
    /** Models skipped because this machine lacks something (the en_US.UTF-8 locale), not for what they are. */
    private static final java.util.Set<String> SKIPPED_FOR_MACHINE = Collections.synchronizedSet(new java.util.TreeSet<>());
    /** ONNX Runtime's message when a StringNormalizer cannot construct its locale (as scoring-onnx detects it). */
    private static final String LOCALE_ERROR = "Failed to construct locale";
    private static final String LOCALE_SKIP = "the OS locale en_US.UTF-8 is missing, which this StringNormalizer model "
            + "needs to load in ONNX Runtime (in-process and in the test server alike); install it to run this case";
    private static @Nullable Subject open;

    /** How the client talks to the test server. */
    enum Protocol {
        REST_BINARY("REST binary"), REST_JSON("REST JSON"), GRPC("gRPC");

        final String label;

        Protocol(String label) {
            this.label = label;
        }

        TritonModel.Builder builder(String model) {
            switch (this) {
                case REST_BINARY:
                    return TritonModel.builder(URI.create(server.restUrl()), model);
                case REST_JSON:
                    return TritonModel.builder(URI.create(server.restUrl()), model).binaryData(false);
                default:
                    return TritonModel.builder(URI.create(server.grpcUrl()), model).protocol(TritonModel.Protocol.GRPC);
            }
        }
    }

    @BeforeAll
    static void startServer() throws IOException {
        server = KServeTestServer.start(Map.of());
        for (Protocol p : Protocol.values()) {
            CARRIED.put(p, Collections.synchronizedList(new ArrayList<>()));
        }
    }

    @AfterAll
    static void stopServer() throws OrtException {
        try {
            if (open != null) {
                open.close();
            }
        } finally {
            if (server != null) {
                server.close();
            }
        }
    }

    @TestFactory
    Stream<DynamicTest> sharedModel_onnxAndTritonPipelines_giveIdenticalOutputs() throws IOException {
        Path root = SharedModels.root();
        Properties checks = SharedModels.checks(root);
        List<Path> folders = SharedModels.folders(root);
        assertThat(folders).isNotEmpty();
        Stream<DynamicTest> perModel = folders.stream().flatMap(folder -> {
            Subject subject = new Subject(folder, checks);
            Protocol last = Protocol.values()[Protocol.values().length - 1];
            return Arrays.stream(Protocol.values()).map(p -> DynamicTest.dynamicTest(subject.name + " " + p.label, () -> {
                try {
                    subject.check(p);
                } finally {
                    if (p == last) {
                        subject.close();
                    }
                }
            }));
        });
        DynamicTest counts = DynamicTest.dynamicTest("carried models per protocol", () -> {
            System.out.println("SharedModelsThroughTritonTest: carried " + counts() + "; skipped " + SKIPPED.size()
                    + " models: " + SKIPPED);
            for (Protocol p : Protocol.values()) {
                assertThat(CARRIED.get(p)).as("models carried over %s (skipped: %s)", p.label, SKIPPED)
                        .hasSizeGreaterThanOrEqualTo(EXPECTED_CARRIED.get(p) - SKIPPED_FOR_MACHINE.size());
            }
        });
        return Stream.concat(perModel, Stream.of(counts));
    }

    private static Map<String, Integer> counts() {
        return Arrays.stream(Protocol.values()).collect(Collectors.toMap(p -> p.label, p -> CARRIED.get(p).size(),
                (a, b) -> a, LinkedHashMap::new));
    }

    /**
     * One model folder: opened on its first protocol's test (the in-process reference scored once, the
     * file loaded into the server) and closed after its last.
     */
    private static final class Subject {
        private final Path folder;
        private final String name;
        private final Properties checks;
        private boolean opened;
        private @Nullable Exception openFailure;
        private @Nullable String skipReason;
        private @Nullable OrtBackend backend;
        private @Nullable Tensors inputs;
        private @Nullable Tensors expected;

        Subject(Path folder, Properties checks) {
            this.folder = folder;
            this.name = folder.getFileName().toString();
            this.checks = checks;
        }

        void check(Protocol protocol) throws Exception {
            if (!opened) {
                opened = true;
                open = this;
                try {
                    skipReason = open();
                } catch (Exception e) {
                    openFailure = e;
                    throw e;
                }
            }
            if (openFailure != null) {
                fail(name + " could not be opened (see its first test)", openFailure);
            }
            if (skipReason != null) {
                skip(skipReason);
            }
            if (protocol == Protocol.REST_JSON) {
                String half = firstTensor(t -> t.equals("FP16") || t.equals("BF16"));
                if (half != null) {
                    skip(half + ", which KServe v2 JSON cannot carry");
                }
                String nonFinite = nonFiniteInput(inputs);
                if (nonFinite != null) {
                    skip(nonFinite + ", which JSON cannot carry (the client refuses it before sending)");
                }
            }
            Tensors actual;
            try (ManagedScorer<Tensors, Tensors> scorer = pipeline(protocol.builder(name).requestTimeout(REQUEST_TIMEOUT)
                    .build())) {
                actual = scorer.score(inputs);
            }
            assertIdentical(expected, actual);
            CARRIED.get(protocol).add(name);
        }

        private void skip(String reason) {
            SKIPPED.merge(name, reason, (a, b) -> a.equals(b) ? a : a + "; " + b);
            Assumptions.abort(name + ": " + reason);
        }

        /** Loads the file into the server and scores the reference in-process; the reason to skip, or null. */
        private @Nullable String open() throws Exception {
            Path file = SharedModels.modelFile(folder);
            try {
                backend = new OrtBackend(name, file, 1);
            } catch (IllegalArgumentException e) {
                return e.getMessage();
            } catch (OrtException e) {
                if (String.valueOf(e.getMessage()).contains(LOCALE_ERROR)) {
                    SKIPPED_FOR_MACHINE.add(name);
                    return LOCALE_SKIP;
                }
                throw e;
            }
            String unsupported = firstTensor(t -> Arrays.stream(DataType.values()).noneMatch(d -> d.name().equals(t)));
            if (unsupported != null) {
                return unsupported + ", a KServe v2 datatype that Nearline's DataType lacks, so TritonModel refuses the model";
            }
            server.load(backend);
            OnnxModel onnx;
            try {
                onnx = OnnxModel.builder(file).intraOpThreads(1).build();
            } catch (IllegalStateException e) {
                if (String.valueOf(e.getMessage()).contains("en_US.UTF-8")) {
                    SKIPPED_FOR_MACHINE.add(name);
                    return LOCALE_SKIP;
                }
                throw e;
            }
            try (ManagedScorer<Tensors, Tensors> scorer = pipeline(onnx)) {
                inputs = ModelInputs.of(folder, checks, onnx.signature().inputs());
                expected = scorer.score(inputs);
            }
            return null;
        }

        /** {@code input 'x' is UINT16} for the first input or output whose v2 datatype matches, or null. */
        private @Nullable String firstTensor(Predicate<String> datatype) {
            for (OrtBackend.Meta t : backend.inputs()) {
                if (datatype.test(t.datatype())) {
                    return "input '" + t.name() + "' is " + t.datatype();
                }
            }
            for (OrtBackend.Meta t : backend.outputs()) {
                if (datatype.test(t.datatype())) {
                    return "output '" + t.name() + "' is " + t.datatype();
                }
            }
            return null;
        }

        void close() throws OrtException {
            open = null;
            server.unload(name);
            if (backend != null) {
                backend.close();
                backend = null;
            }
            inputs = null;
            expected = null;
        }
    }

    /** {@code input 'x' element 3 is NaN} for the first NaN or infinite input element, or null. */
    private static @Nullable String nonFiniteInput(Tensors inputs) {
        for (int i = 0; i < inputs.size(); i++) {
            Tensor t = inputs.get(i);
            if (t.type() != DataType.FP32 && t.type() != DataType.FP64) {
                continue;
            }
            for (int e = 0; e < t.size(); e++) {
                if (!Double.isFinite(t.doubleAt(e))) {
                    return "input '" + inputs.name(i) + "' element " + e + " is " + t.doubleAt(e);
                }
            }
        }
        return null;
    }

    private static ManagedScorer<Tensors, Tensors> pipeline(Model model) {
        return Pipeline.builder((Tensors record) -> record).model(model).build(outputs -> outputs);
    }

    private static void assertIdentical(Tensors expected, Tensors actual) {
        assertThat(actual.names()).as("output names").containsExactlyElementsOf(expected.names());
        for (int i = 0; i < expected.size(); i++) {
            Tensor e = expected.get(i);
            Tensor a = actual.get(i);
            String output = expected.name(i);
            assertThat(a.type()).as("output %s datatype", output).isEqualTo(e.type());
            assertThat(a.shape()).as("output %s shape", output).containsExactly(e.shape());
            assertThat(bytes(a)).as("output %s bytes", output).isEqualTo(bytes(e));
        }
    }

    /** The v2 binary layout: floats bit for bit, BYTES as length-prefixed UTF-8. */
    private static byte[] bytes(Tensor t) {
        ByteBuffer b = ByteBuffer.allocate((int) t.byteSize());
        t.writeLittleEndian(b);
        return b.array();
    }
}
