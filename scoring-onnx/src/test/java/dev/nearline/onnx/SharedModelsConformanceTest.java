package dev.nearline.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxMap;
import ai.onnxruntime.OnnxSequence;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.SequenceInfo;
import dev.nearline.api.DataType;
import dev.nearline.api.ScoringException;
import dev.nearline.api.Tensor;
import dev.nearline.api.TensorSpec;
import dev.nearline.api.Tensors;
import dev.nearline.onnx.testing.ModelInputs;
import dev.nearline.onnx.testing.SharedModels;
import dev.nearline.onnx.testing.TensorProtos;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestReporter;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Loads every third-party model of {@code ../shared/models} through {@link OnnxModel}, scores it and
 * compares the outputs with the folder's reference data or, where there is none, with ONNX Runtime
 * called directly on the same inputs (converted independently of the production code). Expected
 * outcomes, generated inputs and tolerances come from {@code checks.properties}.
 */
@ExtendWith(ModelLeakCheck.class)
class SharedModelsConformanceTest {
    private static final double DEFAULT_ATOL = 1e-5;
    private static final double DEFAULT_RTOL = 1e-3;
    /** Inputs above this many elements are scored twice only (ours and ONNX Runtime's), to keep the suite fast. */
    private static final int LARGE_INPUT = 100_000;

    @TestFactory
    Stream<DynamicTest> sharedModel_scoresLikeReferenceOrOnnxRuntime(TestReporter reporter) throws IOException {
        Path root = SharedModels.root();
        Properties checks = SharedModels.checks(root);
        List<Path> folders = SharedModels.folders(root);
        assertThat(folders).isNotEmpty();
        return folders.stream().map(f -> DynamicTest.dynamicTest(f.getFileName().toString(),
                () -> new Check(f, checks, reporter).run()));
    }

    /** One folder's check. */
    private static final class Check {
        private final Path folder;
        private final String name;
        private final Properties checks;
        private final TestReporter reporter;
        private final double atol;
        private final double rtol;

        Check(Path folder, Properties checks, TestReporter reporter) {
            this.folder = folder;
            this.name = folder.getFileName().toString();
            this.checks = checks;
            this.reporter = reporter;
            this.atol = Double.parseDouble(prop("atol", String.valueOf(DEFAULT_ATOL)));
            this.rtol = Double.parseDouble(prop("rtol", String.valueOf(DEFAULT_RTOL)));
        }

        void run() throws Exception {
            Path file = SharedModels.modelFile(folder);
            String expect = prop("expect", "pass");
            OnnxModel model;
            try {
                model = ModelLeakCheck.track(OnnxModel.builder(file).intraOpThreads(1).build());
            } catch (IllegalStateException e) {
                if (usesStringNormalizer(file) && String.valueOf(e.getMessage()).contains("en_US.UTF-8")) {
                    assertThat(e).hasMessageContaining(file.getFileName().toString())
                            .hasMessageContaining("locale-gen");
                    report("DEGRADED: the OS locale en_US.UTF-8 is missing, so this StringNormalizer model "
                            + "cannot load; asserted the clear locale error instead of scoring it");
                    return;
                }
                throw e;
            }
            OrtSession.SessionOptions rawOptions = new OrtSession.SessionOptions();
            rawOptions.setIntraOpNumThreads(1);
            try (model; rawOptions; OrtSession raw = OrtEnvironment.getEnvironment().createSession(file.toString(), rawOptions)) {
                if (expect.equals("not-feedable")) {
                    checkNotFeedable(model);
                } else if (prop("libsvm", null) != null) {
                    checkLibsvm(model);
                } else if (!dataSets().isEmpty()) {
                    for (Path set : dataSets()) {
                        checkReference(model, raw, set, expect.equals("ref-mismatch"));
                    }
                } else if (lightOutput() != null) {
                    checkLight(model, raw, lightOutput());
                } else {
                    checkAgainstOrt(model, raw);
                }
            }
        }

        private void checkNotFeedable(OnnxModel model) {
            assertThat(model.signature().inputs()).isNotEmpty();
            assertThatThrownBy(() -> model.predict(Tensors.empty()))
                    .isInstanceOfSatisfying(ScoringException.class,
                            e -> assertThat(e.kind()).isEqualTo(ScoringException.Kind.INVALID_INPUT))
                    .hasMessageContaining("which ONNX Runtime's Java API cannot create")
                    .hasMessageContaining("input '" + model.signature().inputs().get(0).name() + "'");
        }

        private void checkReference(OnnxModel model, OrtSession raw, Path set, boolean knownMismatch) throws Exception {
            List<TensorSpec> specs = model.signature().inputs();
            Tensors.Builder in = Tensors.builder();
            for (int i = 0; i < specs.size(); i++) {
                in.add(specs.get(i).name(), TensorProtos.readTensor(set.resolve("input_" + i + ".pb")).tensor());
            }
            Tensors out = model.predict(in.build());
            List<String> rawOutputs = new ArrayList<>(raw.getOutputNames());
            Map<String, NodeInfo> rawInfo = raw.getOutputInfo();
            List<String> problems = new ArrayList<>();
            double worst = 0;
            for (int j = 0; Files.exists(set.resolve("output_" + j + ".pb")); j++) {
                Path ref = set.resolve("output_" + j + ".pb");
                String output = rawOutputs.get(j);
                if (rawInfo.get(output).getInfo() instanceof SequenceInfo
                        && !((SequenceInfo) rawInfo.get(output).getInfo()).isSequenceOfMaps()) {
                    List<Tensor> expected = TensorProtos.readSequence(ref);
                    for (int k = 0; k < expected.size(); k++) {
                        String problem = compare(expected.get(k), out.require(output + "." + k), true);
                        if (problem != null) {
                            problems.add(output + "." + k + ": " + problem);
                        }
                    }
                    assertThat(out.contains(output + "." + expected.size())).as("extra sequence element").isFalse();
                } else {
                    Tensor expected = TensorProtos.readTensor(ref).tensor();
                    Tensor actual = out.require(output);
                    String problem = compare(expected, actual, true);
                    if (problem != null) {
                        problems.add(output + ": " + problem);
                        if (!expected.type().isFloatingPoint()) {
                            worst = Double.POSITIVE_INFINITY;
                        } else {
                            worst = Math.max(worst, maxAbsDiff(expected, actual));
                        }
                    }
                }
            }
            if (knownMismatch) {
                // MANIFEST note 5: intercept-only probabilities, 7.2e-4 away from the docs' values; label agrees.
                assertThat(problems).as("expected the known reference mismatch").isNotEmpty();
                assertThat(worst).as("probabilities differ by a little, labels not at all").isLessThan(1e-2);
                report("known reference mismatch confirmed: " + problems);
            } else {
                assertThat(problems).as(set.toString()).isEmpty();
            }
        }

        private void checkLight(OnnxModel model, OrtSession raw, Path reference) throws Exception {
            TensorSpec spec = model.signature().inputs().get(0);
            Tensor input = generate(spec, 0);
            Tensors out = model.predict(Tensors.of(spec.name(), input));
            Tensor expected = TensorProtos.readTensor(reference).tensor();
            String output = raw.getOutputNames().iterator().next();
            assertThat(compare(expected, out.require(output), true)).as(reference.toString()).isNull();
        }

        private void checkLibsvm(OnnxModel model) throws IOException {
            String prefix = "libsvm.";
            boolean oneBased = Boolean.parseBoolean(prop(prefix + "oneBased", "true"));
            TensorSpec in = model.signature().input(prop(prefix + "input", model.signature().inputs().get(0).name()));
            assertThat(in).isNotNull();
            String output = prop(prefix + "output", model.signature().outputs().get(0).name());
            long[] rowShape = prop(prefix + "shape", null) != null ? parseShape(prop(prefix + "shape", ""))
                    : Arrays.copyOfRange(in.shape(), 1, in.shape().length);
            int features = Tensor.elementCount(rowShape);
            double scale = Double.parseDouble(prop(prefix + "scale", "1"));
            List<String> lines = Files.readAllLines(folder.resolve(prop("libsvm", "")), StandardCharsets.UTF_8).stream()
                    .filter(l -> !l.isBlank()).collect(Collectors.toList());
            int batch = Integer.parseInt(prop(prefix + "batch", "0"));
            if (batch <= 0) {
                batch = lines.size();
            }
            int correct = 0;
            for (int start = 0; start < lines.size(); start += batch) {
                int rows = Math.min(batch, lines.size() - start);
                float[] x = new float[rows * features];
                int[] labels = new int[rows];
                for (int r = 0; r < rows; r++) {
                    String[] parts = lines.get(start + r).trim().split("\\s+");
                    labels[r] = Integer.parseInt(parts[0]);
                    for (int p = 1; p < parts.length; p++) {
                        int colon = parts[p].indexOf(':');
                        int index = Integer.parseInt(parts[p].substring(0, colon)) - (oneBased ? 1 : 0);
                        x[r * features + index] = (float) (Double.parseDouble(parts[p].substring(colon + 1)) * scale);
                    }
                }
                long[] shape = new long[rowShape.length + 1];
                shape[0] = rows;
                System.arraycopy(rowShape, 0, shape, 1, rowShape.length);
                Tensor result = model.predict(Tensors.of(in.name(), Tensor.ofFloats(x, shape))).require(output);
                for (int r = 0; r < rows; r++) {
                    long predicted;
                    if (!result.type().isFloatingPoint()) {
                        predicted = result.longAt(r);
                    } else {
                        int classes = result.size() / rows;
                        int best = 0;
                        for (int c = 1; c < classes; c++) {
                            if (result.floatAt(r * classes + c) > result.floatAt(r * classes + best)) {
                                best = c;
                            }
                        }
                        predicted = best;
                    }
                    if (predicted == labels[r]) {
                        correct++;
                    }
                }
            }
            double accuracy = (double) correct / lines.size();
            report("accuracy " + correct + "/" + lines.size());
            assertThat(accuracy).isGreaterThanOrEqualTo(Double.parseDouble(prop(prefix + "minAccuracy", "1.0")) - 1e-9);
        }

        private void checkAgainstOrt(OnnxModel model, OrtSession raw) throws Exception {
            Tensors.Builder b = Tensors.builder();
            List<TensorSpec> specs = model.signature().inputs();
            for (int i = 0; i < specs.size(); i++) {
                b.add(specs.get(i).name(), generate(specs.get(i), i));
            }
            Tensors inputs = b.build();
            Tensors ours = model.predict(inputs);
            Map<String, Tensor> expected = runDirectly(raw, inputs);
            assertThat(ours.names()).containsExactlyInAnyOrderElementsOf(expected.keySet());
            for (Map.Entry<String, Tensor> e : expected.entrySet()) {
                assertThat(compare(e.getValue(), ours.require(e.getKey()), false)).as(e.getKey()).isNull();
            }
            int elements = 0;
            for (int i = 0; i < inputs.size(); i++) {
                elements += inputs.get(i).size();
            }
            if (elements > LARGE_INPUT) {
                return; // an image model such as the 720x720 style transfer: two runs are enough
            }
            // a second call takes the pinned path where the pool applies; a batch of two records the batched one
            assertThat(model.predict(inputs)).isEqualTo(ours);
            List<Tensors> batched = model.predictBatch(List.of(inputs, inputs));
            for (Tensors record : batched) {
                assertThat(record.names()).containsExactlyElementsOf(ours.names());
                for (String output : ours.names()) {
                    assertThat(compare(ours.require(output), record.require(output), true)).as("batched " + output).isNull();
                }
            }
        }

        // ------------------------------------------------------------ inputs

        private Tensor generate(TensorSpec spec, int index) {
            return ModelInputs.generate(name, checks, spec, index);
        }

        // ------------------------------------------------------------ ONNX Runtime called directly

        /** Runs the session on {@code inputs} without Nearline's conversions; outputs named as OnnxModel names them. */
        private static Map<String, Tensor> runDirectly(OrtSession session, Tensors inputs) throws OrtException {
            OrtEnvironment env = OrtEnvironment.getEnvironment();
            Map<String, OnnxTensor> feed = new LinkedHashMap<>();
            try {
                for (String input : session.getInputNames()) {
                    feed.put(input, direct(env, inputs.require(input)));
                }
                Map<String, Tensor> out = new LinkedHashMap<>();
                try (OrtSession.Result r = session.run(feed)) {
                    for (Map.Entry<String, OnnxValue> e : r) {
                        expand(e.getKey(), e.getValue(), out);
                    }
                }
                return out;
            } finally {
                OnnxValue.close(feed);
            }
        }

        private static OnnxTensor direct(OrtEnvironment env, Tensor t) throws OrtException {
            long[] shape = t.shape();
            switch (t.type()) {
                case FP32:
                    return OnnxTensor.createTensor(env, FloatBuffer.wrap(t.toFloatArray()), shape);
                case FP64:
                    return OnnxTensor.createTensor(env, DoubleBuffer.wrap(t.toDoubleArray()), shape);
                case INT64:
                    return OnnxTensor.createTensor(env, LongBuffer.wrap(t.toLongArray()), shape);
                case INT32:
                    return OnnxTensor.createTensor(env, IntBuffer.wrap(t.toIntArray()), shape);
                case INT16:
                    return OnnxTensor.createTensor(env, ShortBuffer.wrap(t.toShortArray()), shape);
                case FP16:
                    return OnnxTensor.createTensor(env, ShortBuffer.wrap(t.toShortArray()), shape, OnnxJavaType.FLOAT16);
                case BF16:
                    return OnnxTensor.createTensor(env, ShortBuffer.wrap(t.toShortArray()), shape, OnnxJavaType.BFLOAT16);
                case INT8:
                    return OnnxTensor.createTensor(env, ByteBuffer.wrap(t.toByteArray()), shape);
                case UINT8:
                    return OnnxTensor.createTensor(env, ByteBuffer.wrap(t.toByteArray()), shape, OnnxJavaType.UINT8);
                case BOOL:
                    return OnnxTensor.createTensor(env, ByteBuffer.wrap(t.toByteArray()), shape, OnnxJavaType.BOOL);
                default:
                    return OnnxTensor.createTensor(env, t.toStringArray(), shape);
            }
        }

        private static void expand(String name, OnnxValue value, Map<String, Tensor> out) throws OrtException {
            if (value instanceof OnnxTensor) {
                OnnxTensor t = (OnnxTensor) value;
                out.put(name, fromJavaArray(t.getValue(), t.getInfo().getShape()));
            } else if (value instanceof OnnxSequence) {
                List<? extends OnnxValue> items = ((OnnxSequence) value).getValue();
                try {
                    if (((OnnxSequence) value).getInfo().isSequenceOfMaps()) {
                        List<Map<? extends Object, ? extends Object>> rows = new ArrayList<>();
                        for (OnnxValue m : items) {
                            rows.add(((OnnxMap) m).getValue());
                        }
                        zipMap(name, rows, out);
                    } else {
                        for (int i = 0; i < items.size(); i++) {
                            expand(name + "." + i, items.get(i), out);
                        }
                    }
                } finally {
                    items.forEach(OnnxValue::close);
                }
            } else if (value instanceof OnnxMap) {
                Map<? extends Object, ? extends Object> m = ((OnnxMap) value).getValue();
                Object[] keys = m.keySet().toArray();
                Arrays.sort(keys);
                double[] v = new double[keys.length];
                for (int i = 0; i < keys.length; i++) {
                    v[i] = ((Number) m.get(keys[i])).doubleValue();
                }
                out.put(name, Tensor.ofDoubles(v, keys.length));
                out.put(name + ".keys", keysTensor(keys));
            } else {
                fail("unexpected output " + name + ": " + value);
            }
        }

        private static void zipMap(String name, List<Map<? extends Object, ? extends Object>> rows, Map<String, Tensor> out) {
            Object[] keys = rows.isEmpty() ? new Object[0] : rows.get(0).keySet().toArray();
            Arrays.sort(keys);
            double[] v = new double[rows.size() * keys.length];
            for (int r = 0; r < rows.size(); r++) {
                for (int c = 0; c < keys.length; c++) {
                    v[r * keys.length + c] = ((Number) rows.get(r).get(keys[c])).doubleValue();
                }
            }
            out.put(name, Tensor.ofDoubles(v, rows.size(), keys.length));
            out.put(name + ".keys", keysTensor(keys));
        }

        private static Tensor keysTensor(Object[] keys) {
            if (keys.length > 0 && keys[0] instanceof String) {
                return Tensor.ofStrings(Arrays.copyOf(keys, keys.length, String[].class), keys.length);
            }
            long[] l = new long[keys.length];
            for (int i = 0; i < l.length; i++) {
                l[i] = ((Number) keys[i]).longValue();
            }
            return Tensor.ofLongs(l, keys.length);
        }

        /** A tensor from ONNX Runtime's (multi-dimensional) Java array or boxed scalar. */
        private static Tensor fromJavaArray(Object value, long[] shape) {
            List<Object> leaves = new ArrayList<>();
            flatten(value, leaves);
            int n = Tensor.elementCount(shape);
            if (!leaves.isEmpty() && leaves.get(0) instanceof String) {
                return Tensor.ofStrings(leaves.toArray(new String[0]), shape);
            }
            if (!leaves.isEmpty() && leaves.get(0) instanceof Boolean) {
                boolean[] b = new boolean[n];
                for (int i = 0; i < n; i++) {
                    b[i] = (Boolean) leaves.get(i);
                }
                return Tensor.ofBooleans(b, shape);
            }
            boolean integral = !leaves.isEmpty() && !(leaves.get(0) instanceof Float || leaves.get(0) instanceof Double);
            if (integral) {
                long[] l = new long[n];
                for (int i = 0; i < n; i++) {
                    l[i] = ((Number) leaves.get(i)).longValue();
                }
                return Tensor.ofLongs(l, shape);
            }
            double[] d = new double[n];
            for (int i = 0; i < n; i++) {
                d[i] = ((Number) leaves.get(i)).doubleValue();
            }
            return Tensor.ofDoubles(d, shape);
        }

        private static void flatten(Object value, List<Object> leaves) {
            if (value instanceof Object[]) {
                for (Object o : (Object[]) value) {
                    flatten(o, leaves);
                }
            } else if (value.getClass().isArray()) {
                int n = java.lang.reflect.Array.getLength(value);
                for (int i = 0; i < n; i++) {
                    leaves.add(java.lang.reflect.Array.get(value, i));
                }
            } else {
                leaves.add(value);
            }
        }

        // ------------------------------------------------------------ comparison

        /**
         * Why {@code actual} differs from {@code expected}, or null: equal shapes, equal types when
         * {@code strictType}, strings/bools/integers equal, numbers within {@code atol + rtol*|e|}.
         */
        private @Nullable String compare(Tensor expected, Tensor actual, boolean strictType) {
            if (!Arrays.equals(expected.shape(), actual.shape())) {
                return "shape " + Arrays.toString(actual.shape()) + ", expected " + Arrays.toString(expected.shape());
            }
            if (strictType && expected.type() != actual.type()) {
                return "type " + actual.type() + ", expected " + expected.type();
            }
            if (expected.type() == DataType.BYTES || actual.type() == DataType.BYTES) {
                return Arrays.equals(expected.toStringArray(), actual.toStringArray()) ? null
                        : "strings " + Arrays.toString(actual.toStringArray()) + ", expected "
                                + Arrays.toString(expected.toStringArray());
            }
            boolean exact = !expected.type().isFloatingPoint() && !actual.type().isFloatingPoint();
            for (int i = 0; i < expected.size(); i++) {
                if (exact) {
                    if (expected.longAt(i) != actual.longAt(i)) {
                        return "element " + i + " is " + actual.longAt(i) + ", expected " + expected.longAt(i);
                    }
                    continue;
                }
                double e = expected.doubleAt(i);
                double a = actual.doubleAt(i);
                if (Double.isNaN(e) && Double.isNaN(a) || e == a) {
                    continue;
                }
                if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) {
                    return "element " + i + " is " + a + ", expected " + e + " (atol " + atol + ", rtol " + rtol + ")";
                }
            }
            return null;
        }

        private static double maxAbsDiff(Tensor expected, Tensor actual) {
            double worst = 0;
            for (int i = 0; i < expected.size(); i++) {
                worst = Math.max(worst, Math.abs(expected.doubleAt(i) - actual.doubleAt(i)));
            }
            return worst;
        }

        // ------------------------------------------------------------ folder layout

        private List<Path> dataSets() throws IOException {
            try (Stream<Path> s = Files.list(folder)) {
                return s.filter(p -> Files.isDirectory(p) && p.getFileName().toString().startsWith("test_data_set_"))
                        .sorted().collect(Collectors.toList());
            }
        }

        private @Nullable Path lightOutput() throws IOException {
            try (Stream<Path> s = Files.list(folder)) {
                return s.filter(p -> p.getFileName().toString().endsWith("_output_0.pb")).findFirst().orElse(null);
            }
        }

        private static boolean usesStringNormalizer(Path file) throws IOException {
            return new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1).contains("StringNormalizer");
        }

        /** Publishes a note to JUnit and the build log, where CI readers see it. */
        private void report(String message) {
            reporter.publishEntry(name, message);
            System.out.println(name + ": " + message);
        }

        private String prop(String key, @Nullable String defaultValue) {
            return checks.getProperty(name + "." + key, defaultValue);
        }

        private static long[] parseShape(String s) {
            if (s.isBlank()) {
                return new long[0];
            }
            return Arrays.stream(s.split(",")).mapToLong(x -> Long.parseLong(x.trim())).toArray();
        }
    }
}
