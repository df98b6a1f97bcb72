package dev.nearline.core;

import static dev.nearline.core.DriftMonitorTest.in;
import static dev.nearline.core.DriftMonitorTest.out;
import static org.assertj.core.api.Assertions.assertThat;

import dev.nearline.api.Tensors;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Many threads observing at once, started together by a gate, while another takes snapshots. */
class DriftMonitorConcurrencyTest {
    private static final int THREADS = 8;
    private static final int RECORDS = 20_000;

    @Test
    void observe_eightThreadsAtOnce_countsAddUpAndSnapshotsStayConsistent() throws Exception {
        DriftMonitorTest.RecordingDriftListener listener = new DriftMonitorTest.RecordingDriftListener();
        DriftMonitor monitor = DriftMonitor.builder().sampleEvery(1).window(1000).captureReference(1000)
                .checkEvery(100).listener(listener).build();
        // Pre-built records, so that the threads spend their time in observe: feature i % 100, score the same.
        Tensors[] inputs = new Tensors[100];
        Tensors[] outputs = new Tensors[100];
        for (int i = 0; i < 100; i++) {
            inputs[i] = in(i, -i, 0.5f);
            outputs[i] = out(i / 100f);
        }
        Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
        List<DriftSnapshot> snapshots = new ArrayList<>();
        CountDownLatch gate = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(THREADS);
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            int offset = t * 13;
            Thread thread = new Thread(() -> {
                try {
                    gate.await();
                    for (int i = 0; i < RECORDS; i++) {
                        int k = (i + offset) % 100;
                        monitor.observe(inputs[k], outputs[k]);
                    }
                } catch (Throwable e) {
                    failures.add(e);
                } finally {
                    done.countDown();
                }
            }, "observer-" + t);
            thread.start();
            threads.add(thread);
        }

        gate.countDown();
        while (!done.await(1, TimeUnit.MILLISECONDS)) {
            snapshots.add(monitor.snapshot());
        }
        for (Thread thread : threads) {
            thread.join();
        }

        assertThat(failures).isEmpty();
        DriftSnapshot last = monitor.snapshot();
        assertThat(last.errors()).isZero();
        assertThat(last.observed() + last.dropped()).isEqualTo((long) THREADS * RECORDS);
        assertThat(last.observed()).isGreaterThanOrEqualTo(1000);
        snapshots.add(last);
        for (DriftSnapshot s : snapshots) {
            assertConsistent(s);
        }
        assertThat(last.referenceReady()).isTrue();
        // Every thread cycles through the same hundred records: no drift, whatever the interleaving.
        assertThat(listener.events).isEmpty();
    }

    private static void assertConsistent(DriftSnapshot s) {
        long inWindow = Math.min(1000, s.observed());
        if (s.observed() == 0) {
            // Taken before any thread's first record: the row width, and so the features, are not known yet.
            assertThat(s.features()).isEmpty();
            assertThat(s.referenceReady()).isFalse();
            return;
        }
        assertThat(s.features()).hasSize(3);
        for (DriftSnapshot.Stats stats : s.features()) {
            assertThat(stats.count()).isEqualTo(inWindow);
            assertThat(stats.missing()).isZero();
        }
        DriftSnapshot.Stats f0 = s.get("f0");
        if (inWindow > 0) {
            assertThat(f0.p50()).isBetween(0.0, 99.0);
            assertThat(s.get("f1").mean()).isEqualTo(-f0.mean());
            assertThat(s.get("f2").p99()).isEqualTo(0.5);
        }
        if (s.referenceReady()) {
            assertThat(f0.psi()).isBetween(0.0, 0.2);
        } else {
            assertThat(f0.psi()).isNaN();
        }
    }
}
