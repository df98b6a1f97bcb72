package dev.nearline.core.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.nearline.api.Batching;
import dev.nearline.api.DataType;
import dev.nearline.api.Model;
import dev.nearline.api.ModelSignature;
import dev.nearline.api.Outcome;
import dev.nearline.api.ScoringException;
import dev.nearline.api.Tensor;
import dev.nearline.api.TensorSpec;
import dev.nearline.api.Tensors;
import dev.nearline.core.ManagedScorer;
import dev.nearline.core.Pipeline;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The contract every {@link Model} keeps, as a test kit (the shape of Micrometer's
 * {@code MeterRegistryCompatibilityKit}): a backend's test extends this class, says how to make its model and
 * a few different valid records, and inherits the checks:
 *
 * <ul>
 *   <li>the signature and the batching declaration are stable; a record's answer has every declared output,
 *       with the declared type and fixed dimensions, and the same record gets the same answer;</li>
 *   <li>{@code predict} with a timeout, {@code predictAsync} and {@code predictBatch} of one record answer as
 *       {@code predict} does; {@code predictBatch} answers one result per record, in order, and where the
 *       model declares a batch axis or {@code none}, each equal to the record's own answer;
 *       {@code predictCombined} answers null or one result per record, in order, each equal to
 *       {@code predictBatch}'s where the model declares a batch axis;</li>
 *   <li>many threads at once get the answers one thread gets;</li>
 *   <li>{@code close()} is idempotent and a call after it fails with {@code UNAVAILABLE};</li>
 *   <li>through the engine ({@code score}, {@code scoreAll}) the answers are the model's.</li>
 * </ul>
 *
 * <p>Floating point answers compare within 1e-5 + 1e-4 relative. A fresh model is made for each check and
 * closed after it.
 */
public abstract class ModelContract {
    private Model model;

    /** A new model under test; the kit closes it. */
    protected abstract Model newModel() throws Exception;

    /** {@code n} valid records for {@code model}, pairwise different, each a single record (one row). */
    protected abstract List<Tensors> records(Model model, int n);

    @BeforeEach
    final void createModel() throws Exception {
        model = newModel();
    }

    @AfterEach
    final void closeModel() {
        model.close();
    }

    /** The model of the current check. */
    protected final Model model() {
        return model;
    }

    @Test
    void signature_askedTwice_isTheSameNonEmptyValue() {
        ModelSignature s = model.signature();
        assertThat(s).isNotNull().isEqualTo(model.signature());
        assertThat(s.inputs()).isNotEmpty();
        assertThat(s.outputs()).isNotEmpty();
        assertThat(new HashSet<>(s.inputNames())).hasSameSizeAs(s.inputNames());
    }

    @Test
    void batching_askedTwice_isTheSameValue() {
        assertThat(model.batching()).isNotNull().isEqualTo(model.batching());
    }

    @Test
    void records_ofTheKit_fitTheSignatureAndDiffer() {
        List<Tensors> records = records(model, 3);
        assertThat(records).hasSize(3).doesNotHaveDuplicates();
        for (Tensors r : records) {
            for (TensorSpec spec : model.signature().inputs()) {
                assertThat(spec.mismatch(r.require(spec.name()))).as("record input %s", spec.name()).isNull();
            }
        }
    }

    @Test
    void predict_oneRecord_answersEveryDeclaredOutputAsDeclared() {
        Tensors out = model.predict(records(model, 1).get(0));
        for (TensorSpec spec : model.signature().outputs()) {
            Tensor t = out.get(spec.name());
            assertThat(t).as("declared output '%s' in %s", spec.name(), out).isNotNull();
            assertThat(t.type()).as("output '%s'", spec.name()).isEqualTo(spec.type());
            long[] declared = spec.shape();
            if (declared != null) {
                assertThat(t.rank()).as("output '%s' rank", spec.name()).isEqualTo(declared.length);
                for (int d = 0; d < declared.length; d++) {
                    if (declared[d] >= 0) {
                        assertThat(t.dim(d)).as("output '%s' dimension %d", spec.name(), d).isEqualTo(declared[d]);
                    }
                }
            }
        }
    }

    @Test
    void predict_sameRecordTwice_sameAnswer() {
        Tensors r = records(model, 1).get(0);
        assertSameAnswer(model.predict(r), model.predict(r), "second call");
    }

    @Test
    void predictWithTimeout_generousTimeout_answersAsPredict() {
        Tensors r = records(model, 1).get(0);
        assertSameAnswer(model.predict(r), model.predict(r, Duration.ofSeconds(30)), "with a timeout");
    }

    @Test
    void predictAsync_answersAsPredict() throws Exception {
        Tensors r = records(model, 1).get(0);
        assertSameAnswer(model.predict(r), model.predictAsync(r).get(30, TimeUnit.SECONDS), "async");
    }

    @Test
    void predictBatch_oneRecord_answersAsPredict() {
        Tensors r = records(model, 1).get(0);
        List<Tensors> out = model.predictBatch(List.of(r));
        assertThat(out).hasSize(1);
        assertSameAnswer(model.predict(r), out.get(0), "batch of one");
    }

    @Test
    void predictBatch_severalRecords_oneAnswerPerRecordInOrder() {
        List<Tensors> records = records(model, 4);
        List<Tensors> out = model.predictBatch(records);
        assertThat(out).hasSize(records.size()).doesNotContainNull();
        Batching b = model.batching();
        if (b.isDeclared()) {
            // A declared axis or none is a promise: batched = single. (Undeclared models are probed by the engine.)
            for (int i = 0; i < records.size(); i++) {
                assertSameAnswer(model.predict(records.get(i)), out.get(i), "record " + i + " of a batch");
            }
        }
        List<Tensors> timed = model.predictBatch(records, Duration.ofSeconds(30));
        for (int i = 0; i < records.size(); i++) {
            assertSameAnswer(out.get(i), timed.get(i), "record " + i + " of a batch with a timeout");
        }
    }

    @Test
    void predictCombined_severalRecords_nullOrOneAnswerPerRecordInOrder() {
        List<Tensors> records = records(model, 4);
        List<Tensors> combined = model.predictCombined(records, null);
        if (combined == null) {
            return; // the model would run these records one by one: allowed, the engine's probe then proves nothing
        }
        assertThat(combined).hasSize(records.size()).doesNotContainNull();
        if (model.batching().isBatchable()) {
            List<Tensors> batched = model.predictBatch(records);
            for (int i = 0; i < records.size(); i++) {
                assertSameAnswer(batched.get(i), combined.get(i), "record " + i + " of a combined call");
            }
        }
        List<Tensors> timed = model.predictCombined(records, Duration.ofSeconds(30));
        assertThat(timed).as("the same records with a timeout").isNotNull().hasSize(records.size());
    }

    @Test
    void predict_manyThreadsAtOnce_answerAsOneThread() throws Exception {
        List<Tensors> records = records(model, 4);
        List<Tensors> expected = new ArrayList<>();
        for (Tensors r : records) {
            expected.add(model.predict(r));
        }
        int threads = 8;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch start = new CountDownLatch(1);
        try {
            List<Future<Integer>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int offset = t;
                done.add(pool.submit(() -> {
                    start.await();
                    int calls = 0;
                    for (int i = 0; i < 25; i++) {
                        int k = (i + offset) % records.size();
                        assertSameAnswer(expected.get(k), model.predict(records.get(k)), "concurrent record " + k);
                        calls++;
                    }
                    return calls;
                }));
            }
            start.countDown();
            int calls = 0;
            for (Future<Integer> f : done) {
                calls += f.get(60, TimeUnit.SECONDS);
            }
            assertThat(calls).isEqualTo(threads * 25);
        } finally {
            pool.shutdownNow();
            assertThat(pool.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void close_twice_isIdempotentAndLaterCallsFailUnavailable() {
        Tensors r = records(model, 1).get(0);
        model.close();
        model.close();
        assertThatThrownBy(() -> model.predict(r)).isInstanceOfSatisfying(ScoringException.class,
                e -> assertThat(e.kind()).isEqualTo(ScoringException.Kind.UNAVAILABLE));
        assertThatThrownBy(() -> model.predictBatch(List.of(r, r))).isInstanceOfSatisfying(ScoringException.class,
                e -> assertThat(e.kind()).isEqualTo(ScoringException.Kind.UNAVAILABLE));
    }

    @Test
    void throughTheEngine_scoreAndScoreAll_answerAsTheModel() throws Exception {
        Model engineModel = newModel();
        List<Tensors> records = records(model, 4);
        try (ManagedScorer<Tensors, Tensors> scorer = Pipeline.builder((Tensors t) -> t).model("m", engineModel)
                .build(out -> out)) {
            for (int round = 0; round < 2; round++) { // the second round batches if the first proved it
                List<Outcome<Tensors>> all = scorer.scoreAll(records);
                for (int i = 0; i < records.size(); i++) {
                    Tensors alone = model.predict(records.get(i));
                    assertSameAnswer(alone, scorer.score(records.get(i)), "score of record " + i);
                    assertSameAnswer(alone, all.get(i).get(), "scoreAll record " + i);
                }
            }
        }
    }

    /** Asserts two answers have the same outputs, types, shapes and values (floating point within tolerance). */
    protected static void assertSameAnswer(Tensors expected, Tensors actual, String what) {
        assertThat(actual.names()).as("%s: output names", what).isEqualTo(expected.names());
        for (int i = 0; i < expected.size(); i++) {
            Tensor a = expected.get(i);
            Tensor b = actual.get(i);
            String output = what + ": output '" + expected.name(i) + "'";
            assertThat(b.type()).as(output).isEqualTo(a.type());
            assertThat(b.shape()).as(output).isEqualTo(a.shape());
            if (a.type().isFloatingPoint()) {
                for (int j = 0; j < a.size(); j++) {
                    double x = a.doubleAt(j);
                    double y = b.doubleAt(j);
                    if (x != y && !(Double.isNaN(x) && Double.isNaN(y))) {
                        assertThat(Math.abs(x - y)).as("%s element %d", output, j)
                                .isLessThanOrEqualTo(1e-5 + 1e-4 * Math.abs(x));
                    }
                }
            } else if (a.type() == DataType.BYTES) {
                assertThat(Arrays.asList(b.toStringArray())).as(output).isEqualTo(Arrays.asList(a.toStringArray()));
            } else {
                assertThat(b).as(output).isEqualTo(a);
            }
        }
    }
}
