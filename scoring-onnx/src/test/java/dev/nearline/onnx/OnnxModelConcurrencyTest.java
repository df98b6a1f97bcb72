package dev.nearline.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nearline.api.Tensor;
import dev.nearline.api.Tensors;
import dev.nearline.onnx.internal.SlotPool;
import dev.nearline.onnx.testing.DemoModels;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Many threads on one model: the pooled, pinned path gives exactly the single-threaded results. */
@ExtendWith(ModelLeakCheck.class)
class OnnxModelConcurrencyTest {
    private static final int THREADS = 8;
    private static final int CALLS = 2000;
    private static final int DISTINCT = 257;

    @TempDir
    Path dir;

    @Test
    void predict_manyThreads_matchesSingleThreadedResults() throws Exception {
        int features = 30;
        try (OnnxModel model = OnnxModel.builder(DemoModels.logistic(dir.resolve("tiny.onnx"), features, 3))
                .intraOpThreads(1).build()) {
            Tensors[] records = new Tensors[DISTINCT];
            Tensors[] expected = new Tensors[DISTINCT];
            for (int r = 0; r < DISTINCT; r++) {
                float[] x = new float[features];
                for (int i = 0; i < features; i++) {
                    x[i] = (float) Math.sin(r * 31 + i);
                }
                records[r] = Tensors.of("input", Tensor.ofFloats(x, 1, features));
                expected[r] = model.predict(records[r]);
            }
            // also mix in records of two rows, which take the per-call path
            Tensors pair = Tensors.of("input", Tensor.ofFloats(new float[2 * features], 2, features));
            Tensors pairExpected = model.predict(pair);

            Queue<String> failures = new ConcurrentLinkedQueue<>();
            CountDownLatch start = new CountDownLatch(1);
            CountDownLatch done = new CountDownLatch(THREADS);
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                int id = t;
                Thread thread = new Thread(() -> {
                    try {
                        start.await();
                        for (int i = 0; i < CALLS; i++) {
                            if (i % 100 == 99) {
                                if (!model.predict(pair).equals(pairExpected)) {
                                    failures.add("thread " + id + " pair call " + i);
                                }
                                continue;
                            }
                            int r = (id * CALLS + i * 7) % DISTINCT;
                            Tensors out = model.predict(records[r]);
                            if (!out.equals(expected[r])) {
                                failures.add("thread " + id + " call " + i + " record " + r + ": " + out.require("score")
                                        .floatAt(0) + " != " + expected[r].require("score").floatAt(0));
                            }
                        }
                    } catch (Throwable e) {
                        failures.add("thread " + id + ": " + e);
                    } finally {
                        done.countDown();
                    }
                }, "scorer-" + t);
                threads.add(thread);
                thread.start();
            }
            start.countDown();
            assertThat(done.await(60, TimeUnit.SECONDS)).as("threads finished").isTrue();

            assertThat(failures).isEmpty();
            SlotPool pool = model.slotPool();
            assertThat(pool).isNotNull();
            assertThat(pool.pinned()).as("outputs pinned after the first run").isTrue();
            // At most one slot per thread is in use at a time; a thread whose scan races past a slot being
            // returned makes one more, so allow some slack, but the pool must not grow per call.
            assertThat(pool.slotsCreated()).isBetween(1, 2 * THREADS);
            for (Thread t : threads) {
                t.join();
            }
        }
    }
}
