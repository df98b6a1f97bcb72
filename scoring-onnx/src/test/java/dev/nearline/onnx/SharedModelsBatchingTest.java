package dev.nearline.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nearline.api.Outcome;
import dev.nearline.api.RowPostprocessor;
import dev.nearline.api.RowPreprocessor;
import dev.nearline.api.RowWriter;
import dev.nearline.api.ScoringException;
import dev.nearline.api.Tensor;
import dev.nearline.api.TensorSpec;
import dev.nearline.api.Tensors;
import dev.nearline.core.ManagedScorer;
import dev.nearline.core.Pipeline;
import dev.nearline.onnx.testing.ModelInputs;
import dev.nearline.onnx.testing.SharedModels;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.extension.ExtendWith;
import org.jspecify.annotations.Nullable;

/**
 * Batching equivalence over every runnable model of {@code ../shared/models}, through the public API: for
 * each model, several different records (and, where an input has a fixed row size, one record whose input is
 * one element too long) are scored one by one with {@code score} and together with {@code scoreAll} (three
 * times: the first call probes an undeclared model through {@code predictBatch}; once the probe proved it,
 * the pipeline's row stages take the columnar path, rows written into the model's own batch buffers). Every
 * {@code scoreAll} answer must equal the record's own {@code score} answer (or fail with the same kind):
 * batched = single, or batching refused for that model, and a bad record fails alone. The log lists which
 * models the probe proved, refused, or could not decide (records whose inputs could not be made different),
 * and which ran columnar.
 */
@ExtendWith(ModelLeakCheck.class)
class SharedModelsBatchingTest {
    private static final int RECORDS = 4;
    private static final int LARGE_INPUT = 100_000;
    private static final double ATOL = 1e-5;
    private static final double RTOL = 1e-4;
    private static final Map<String, String> VERDICTS = new ConcurrentHashMap<>();
    /** Per model: whether score wrote its records into rows of one (RowOne). */
    private static final Map<String, Boolean> ROWS_OF_ONE = new ConcurrentHashMap<>();

    @TestFactory
    Stream<DynamicTest> sharedModel_scoreAllEqualsScoreForEveryRecord() throws IOException {
        Path root = SharedModels.root();
        Properties checks = SharedModels.checks(root);
        return SharedModels.folders(root).stream()
                .filter(f -> !"not-feedable".equals(checks.getProperty(f.getFileName() + ".expect")))
                .map(f -> DynamicTest.dynamicTest(f.getFileName().toString(), () -> check(f, checks)));
    }

    @AfterAll
    static void summary() {
        Map<String, List<String>> byVerdict = new TreeMap<>();
        VERDICTS.forEach((model, verdict) -> byVerdict.computeIfAbsent(verdict, v -> new ArrayList<>()).add(model));
        byVerdict.forEach((verdict, models) -> System.out.printf("batching %s: %d models %s%n", verdict, models.size(),
                models.stream().sorted().toList()));
        System.out.printf("score on a row of one (equal to the per-record call): %d models %s%n",
                ROWS_OF_ONE.values().stream().filter(b -> b).count(),
                ROWS_OF_ONE.entrySet().stream().filter(Map.Entry::getValue).map(Map.Entry::getKey).sorted().toList());
    }

    private static void check(Path folder, Properties checks) throws Exception {
        String name = folder.getFileName().toString();
        Path file = SharedModels.modelFile(folder);
        OnnxModel model;
        try {
            model = ModelLeakCheck.track(OnnxModel.builder(file).intraOpThreads(1).build());
        } catch (IllegalStateException e) {
            if (new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1).contains("StringNormalizer")
                    && String.valueOf(e.getMessage()).contains("en_US.UTF-8")) {
                System.out.println(name + ": SKIPPED: the OS locale en_US.UTF-8 is missing, so this StringNormalizer "
                        + "model cannot load (see scoring-onnx/README.md)");
                VERDICTS.put(name, "skipped (no en_US.UTF-8 locale)");
                return;
            }
            throw e;
        }
        List<TensorSpec> specs = model.signature().inputs();
        Tensors base = ModelInputs.of(folder, checks, specs);
        int good = elements(base) > LARGE_INPUT ? 2 : RECORDS;
        List<Tensors> batch = new ArrayList<>();
        for (int k = 0; k < good; k++) {
            batch.add(variant(base, k));
        }
        Tensors bad = tooLong(base, specs);
        if (bad != null) {
            batch.add(1, bad);
        }
        int records = batch.size();
        try (ManagedScorer<Tensors, Tensors> scorer = Pipeline.builder(new RowsIn()).name(name).model(model)
                .build(new RowsOut())) {
            // The reference: each record through the model's per-record call. score itself may write a record
            // into a row of one (RowOne) when the model offers row batches: it must give the same answers.
            List<Object> singles = new ArrayList<>();
            for (Tensors r : batch) {
                try {
                    singles.add(model.predict(r));
                } catch (ScoringException e) {
                    singles.add(e.kind());
                }
            }
            if (bad != null) {
                assertThat(singles.get(1)).as("%s: the record with a too long input fails alone", name)
                        .isEqualTo(ScoringException.Kind.INVALID_INPUT);
            }
            for (int k = 0; k < records; k++) {
                Object single = singles.get(k);
                try {
                    Tensors scored = scorer.score(batch.get(k));
                    assertThat(single).as("%s record %d: fails alone, but score gave an answer", name, k)
                            .isInstanceOf(Tensors.class);
                    assertSame(name, k, (Tensors) single, scored);
                } catch (ScoringException e) {
                    assertThat(e.kind()).as("%s record %d: score failed (%s)", name, k, e.getMessage()).isEqualTo(single);
                }
            }
            long rowsOfOne = model.rowBatches();
            for (int round = 0; round < 3; round++) {
                List<Outcome<Tensors>> all = scorer.scoreAll(batch);
                for (int k = 0; k < records; k++) {
                    Outcome<Tensors> o = all.get(k);
                    Object single = singles.get(k);
                    if (single instanceof ScoringException.Kind) {
                        assertThat(o.isSuccess()).as("%s record %d fails alone, so in a batch too", name, k).isFalse();
                        assertThat(o.error().kind()).as("%s record %d", name, k).isEqualTo(single);
                    } else {
                        assertThat(o.isSuccess()).as("%s record %d: %s", name, k, o.isSuccess() ? "" : o.error()).isTrue();
                        assertSame(name, k, (Tensors) single, o.get());
                    }
                }
            }
            boolean distinct = batch.stream().filter(r -> r != bad).distinct().count() > 1;
            if (name.startsWith("ort_cntk_") && name.endsWith("_bidirectional")) {
                // the case: a dynamic first axis that is the sequence; the probe must refuse it
                assertThat(model.combinedBatches()).as("%s: only the probe combined records", name).isEqualTo(1);
            }
            VERDICTS.put(name, (!distinct ? "undecided (records could not be made different)"
                    : model.batching().isDeclared() ? "declared " + model.batching() : verdict(model, rowsOfOne))
                    + (model.rowBatches() > rowsOfOne ? ", columnar" : ""));
            ROWS_OF_ONE.put(name, rowsOfOne > 0);
        }
    }

    /**
     * The record's tensors; as a row, each written whole into the model input of its name (the engine takes the
     * per-record path for a record that does not fit one row).
     */
    static final class RowsIn implements RowPreprocessor<Tensors> {
        @Override
        public Tensors preprocess(Tensors record) {
            return record;
        }

        @Override
        public @Nullable List<TensorSpec> rowLayout() {
            return null;
        }

        @Override
        public void preprocessRow(Tensors record, RowWriter row) {
            for (int i = 0; i < record.size(); i++) {
                row.set(record.name(i), record.get(i));
            }
        }
    }

    /** The outputs; as a row, a copy of each output's row {@code row}, shaped as a one-record output. */
    static final class RowsOut implements RowPostprocessor<Tensors> {
        @Override
        public Tensors postprocess(Tensors outputs) {
            return outputs;
        }

        @Override
        public Tensors postprocessRow(Tensors batchOutputs, int row) {
            Tensors.Builder b = Tensors.builder();
            for (int i = 0; i < batchOutputs.size(); i++) {
                b.add(batchOutputs.name(i), row(batchOutputs.get(i), row));
            }
            return b.build();
        }

        private static Tensor row(Tensor t, int row) {
            long[] shape = t.shape().clone();
            int rows = (int) shape[0];
            int width = t.size() / rows;
            shape[0] = 1;
            if (t.type() == dev.nearline.api.DataType.BYTES) {
                return Tensor.ofStrings(Arrays.copyOfRange(t.toStringArray(), row * width, (row + 1) * width), shape);
            }
            java.nio.ByteBuffer all = java.nio.ByteBuffer.allocate((int) t.byteSize()).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            t.writeLittleEndian(all);
            int element = (int) (t.byteSize() / t.size());
            java.nio.ByteBuffer part = java.nio.ByteBuffer.wrap(all.array(), row * width * element, width * element)
                    .slice().order(java.nio.ByteOrder.LITTLE_ENDIAN);
            return Tensor.fromLittleEndian(t.type(), part, shape);
        }
    }

    /**
     * The base record with its first numeric input of a fixed last axis one element longer on that axis (so it
     * fits no row of the model and fails its input check), or null when no input has a fixed last axis.
     */
    private static @Nullable Tensors tooLong(Tensors base, List<TensorSpec> specs) {
        for (TensorSpec spec : specs) {
            long[] shape = spec.shape();
            if (spec.type() == dev.nearline.api.DataType.BYTES || shape == null || shape.length < 2
                    || shape[shape.length - 1] < 1 || !base.names().contains(spec.name())) {
                continue;
            }
            Tensor t = base.require(spec.name());
            long[] longer = t.shape().clone();
            int last = longer.length - 1;
            if (last < 1 || longer[last] != shape[shape.length - 1]) {
                continue;
            }
            int element = t.size() == 0 ? 0 : (int) (t.byteSize() / t.size());
            if (element == 0) {
                continue;
            }
            longer[last]++;
            long n = 1;
            for (long d : longer) {
                n *= d;
            }
            java.nio.ByteBuffer bytes = java.nio.ByteBuffer.allocate((int) (n * element)).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            Tensors.Builder b = Tensors.builder();
            for (int i = 0; i < base.size(); i++) {
                b.add(base.name(i), base.name(i).equals(spec.name())
                        ? Tensor.fromLittleEndian(t.type(), bytes, longer) : base.get(i));
            }
            return b.build();
        }
        return null;
    }

    /**
     * What the probe decided: the model counts its combined runs ({@code predictCombined}/{@code predictBatch})
     * and the row batches it handed to the columnar path; after a proof, later batches are one or the other.
     */
    /** The batching verdict from the model's counters; {@code rowsOfOne} row batches were single records'. */
    private static String verdict(OnnxModel model, long rowsOfOne) {
        long combined = model.combinedBatches();
        boolean batchedLater = combined >= 2 || (combined == 1 && model.rowBatches() > rowsOfOne);
        return batchedLater ? "proven by the probe, then batched"
                : combined == 1 ? "refused by the probe (one call per record)"
                : "never combined (inputs cannot be joined; one call per record)";
    }

    private static int elements(Tensors t) {
        int n = 0;
        for (int i = 0; i < t.size(); i++) {
            n += t.get(i).size();
        }
        return n;
    }

    /**
     * Record {@code k}: the base inputs with every floating point value moved by a small amount that depends
     * on {@code k} and the element (integers, booleans and strings stay: they are often indices or
     * categories the model must recognise).
     */
    private static Tensors variant(Tensors base, int k) {
        if (k == 0) {
            return base;
        }
        Tensors.Builder b = Tensors.builder();
        for (int i = 0; i < base.size(); i++) {
            Tensor t = base.get(i);
            if (t.type().isFloatingPoint() && t.size() > 0) {
                double[] v = t.toDoubleArray();
                for (int j = 0; j < v.length; j++) {
                    v[j] = v[j] * (1 + 0.05 * k) + 0.01 * k * ((j % 7) - 3);
                }
                b.add(base.name(i), retype(t, v));
            } else if (t.size() > 1) {
                b.add(base.name(i), rotate(t, k));
            } else {
                b.add(base.name(i), t);
            }
        }
        return b.build();
    }

    /** The elements rotated by {@code k}: other values from the same domain (indices, categories, strings). */
    private static Tensor rotate(Tensor t, int k) {
        int n = t.size();
        long[] shape = t.shape();
        switch (t.type()) {
            case BYTES: {
                String[] v = t.toStringArray();
                String[] r = new String[n];
                for (int i = 0; i < n; i++) {
                    r[i] = v[(i + k) % n];
                }
                return Tensor.ofStrings(r, shape);
            }
            case BOOL: {
                boolean[] v = t.toBooleanArray();
                boolean[] r = new boolean[n];
                for (int i = 0; i < n; i++) {
                    r[i] = v[(i + k) % n];
                }
                return Tensor.ofBooleans(r, shape);
            }
            default: {
                java.nio.ByteBuffer bytes = java.nio.ByteBuffer.allocate((int) t.byteSize()).order(java.nio.ByteOrder.LITTLE_ENDIAN);
                t.writeLittleEndian(bytes);
                byte[] v = bytes.array();
                int width = v.length / n;
                byte[] r = new byte[v.length];
                for (int i = 0; i < n; i++) {
                    System.arraycopy(v, ((i + k) % n) * width, r, i * width, width);
                }
                return Tensor.fromLittleEndian(t.type(), java.nio.ByteBuffer.wrap(r).order(java.nio.ByteOrder.LITTLE_ENDIAN), shape);
            }
        }
    }

    private static Tensor retype(Tensor like, double[] v) {
        long[] shape = like.shape();
        switch (like.type()) {
            case FP64:
                return Tensor.ofDoubles(v, shape);
            case FP32: {
                float[] f = new float[v.length];
                for (int i = 0; i < v.length; i++) {
                    f[i] = (float) v[i];
                }
                return Tensor.ofFloats(f, shape);
            }
            case FP16:
            case BF16: {
                short[] s = new short[v.length];
                for (int i = 0; i < v.length; i++) {
                    s[i] = like.type() == dev.nearline.api.DataType.FP16 ? Tensor.floatToHalf((float) v[i])
                            : Tensor.floatToBfloat16((float) v[i]);
                }
                return like.type() == dev.nearline.api.DataType.FP16 ? Tensor.ofFloat16(s, shape) : Tensor.ofBFloat16(s, shape);
            }
            default:
                throw new IllegalArgumentException(like.type().toString());
        }
    }

    private static void assertSame(String model, int k, Tensors single, Tensors batched) {
        assertThat(batched.names()).as("%s record %d output names", model, k).isEqualTo(single.names());
        for (int i = 0; i < single.size(); i++) {
            Tensor a = single.get(i);
            Tensor b = batched.get(i);
            String what = model + " record " + k + " output '" + single.name(i) + "'";
            assertThat(b.type()).as(what).isEqualTo(a.type());
            assertThat(b.shape()).as(what).isEqualTo(a.shape());
            if (a.type().isFloatingPoint()) {
                for (int j = 0; j < a.size(); j++) {
                    double x = a.doubleAt(j);
                    double y = b.doubleAt(j);
                    if (x != y && !(Double.isNaN(x) && Double.isNaN(y))) {
                        assertThat(Math.abs(x - y)).as("%s element %d: %s alone, %s in scoreAll", what, j, x, y)
                                .isLessThanOrEqualTo(ATOL + RTOL * Math.abs(x));
                    }
                }
            } else if (a.type() == dev.nearline.api.DataType.BYTES) {
                assertThat(Arrays.asList(b.toStringArray())).as(what).isEqualTo(Arrays.asList(a.toStringArray()));
            } else {
                assertThat(b).as(what).isEqualTo(a);
            }
        }
    }
}
