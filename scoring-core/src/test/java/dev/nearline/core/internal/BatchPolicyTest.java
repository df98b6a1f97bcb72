package dev.nearline.core.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nearline.core.Pipeline.BatchMode;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The synchronous batching decision, driven with made-up measurements. */
class BatchPolicyTest {
    private static final int PROCESSORS = 2;
    private static final int DISPATCHERS = 2;

    private static BatchPolicy auto() {
        BatchPolicy p = new BatchPolicy(BatchMode.AUTO, PROCESSORS, DISPATCHERS, 32);
        p.warmedUp();
        p.randomRewarm = false; // one decision in 512 would re-warm at random: these tests call it themselves
        return p;
    }

    @Test
    void auto_coldStart_runsInlineUnmeasured_thenMeasures() {
        long created = System.nanoTime();
        BatchPolicy p = new BatchPolicy(BatchMode.AUTO, PROCESSORS, DISPATCHERS, 32);
        assertThat(p.sampleInline()).isFalse();
        long giveUp = created + 30 * BatchPolicy.COLD_NANOS;
        while (!p.sampleInline()) {
            assertThat(p.batchSync(64)).isFalse();
            assertThat(System.nanoTime() - giveUp).as("the cold phase ends").isNegative();
        }
        assertThat(System.nanoTime() - created).as("the cold phase lasts its time").isGreaterThanOrEqualTo(BatchPolicy.COLD_NANOS);
        warm(p, 25_000);
        assertThat(p.batchSync(64)).isTrue();
    }

    private static void warm(BatchPolicy p, long inlineNanos) {
        for (int i = 0; i < BatchPolicy.WARM_SAMPLES; i++) {
            assertThat(p.sampleInline()).as("warm-up calls are all timed").isTrue();
            p.recordInline(inlineNanos);
        }
    }

    @Test
    void alwaysAndNever_ignoreMeasurements() {
        BatchPolicy always = new BatchPolicy(BatchMode.ALWAYS, PROCESSORS, DISPATCHERS, 32);
        BatchPolicy never = new BatchPolicy(BatchMode.NEVER, PROCESSORS, DISPATCHERS, 32);
        assertThat(always.batchSync(1)).isTrue();
        assertThat(never.batchSync(1000)).isFalse();
        assertThat(always.sampleInline()).isFalse();
        assertThat(never.sampleInline()).isFalse();
    }

    @Test
    void auto_beforeWarmUp_runsInline() {
        BatchPolicy p = auto();
        for (int i = 0; i < BatchPolicy.WARM_SAMPLES - 1; i++) {
            p.recordInline(25_000);
        }
        assertThat(p.batchSync(64)).isFalse();
        p.recordInline(25_000);
        assertThat(p.batchSync(64)).isTrue();
    }

    @Test
    void auto_smallModel_neverBatches_evenUnmeasured() {
        BatchPolicy p = auto();
        assertThat(p.mayBatch()).isTrue();
        warm(p, 2_000); // a hand-off costs more than the call itself
        for (int inFlight : new int[] {3, 64, 10_000}) {
            assertThat(p.batchSync(inFlight)).as("in flight %d", inFlight).isFalse();
        }
        assertThat(p.mayBatch()).as("the engine need not even ask").isFalse();
        assertThat(new BatchPolicy(BatchMode.NEVER, 2, 2, 32).mayBatch()).isFalse();
        assertThat(new BatchPolicy(BatchMode.ALWAYS, 2, 2, 32).mayBatch()).isTrue();
    }

    @Test
    void auto_heavyModel_batchesToMeasure_thenByTheModel() {
        BatchPolicy p = auto();
        warm(p, 25_000);
        assertThat(p.batchSync(64)).as("no batch measured yet").isTrue();

        batches(p, 32, 8_000); // 8 us per record batched: 2/8us vs 2/25us inline
        assertThat(p.batchSync(64)).isTrue();
        assertThat(p.sampleInline()).as("inline calls are not timed while batching").isFalse();

        BatchPolicy slow = auto();
        warm(slow, 25_000);
        batches(slow, 32, 24_000); // batching barely helps the model: the hand-off makes it a loss
        assertThat(slow.batchSync(64)).isFalse();
        assertThat(slow.sampleInline() || slow.sampleInline() || manySamples(slow)).isTrue();
    }

    @Test
    void auto_noCompany_runsInline() {
        BatchPolicy p = auto();
        warm(p, 25_000);
        batches(p, 32, 8_000);
        assertThat(p.batchSync(PROCESSORS)).isFalse();
        assertThat(p.batchSync(PROCESSORS + 1)).isTrue();
    }

    @Test
    void auto_manyCoresFewDispatchers_runsInline() {
        BatchPolicy p = new BatchPolicy(BatchMode.AUTO, 16, 2, 32);
        p.warmedUp();
        warm(p, 25_000);
        batches(p, 32, 8_000);
        // inline: 16 cores / 25 us = 640k/s; batched: 2 dispatchers / 8 us = 250k/s
        assertThat(p.batchSync(64)).isFalse();
    }

    @Test
    void auto_batchEstimate_isPerBatchSize() {
        BatchPolicy p = auto();
        warm(p, 25_000);
        batches(p, 2, 20_000); // small batches barely help
        batches(p, 32, 8_000);
        assertThat(p.batchSync(5)).as("5 in flight make batches of 2").isFalse();
        assertThat(p.batchSync(64)).isTrue();
        assertThat(p.batchedNanos(48)).isEqualTo(8_000.0);
        assertThat(p.batchedNanos(70)).as("the bucket below when a size was never measured").isEqualTo(8_000.0);
        assertThat(p.batchedNanos(300)).isZero();
    }

    @Test
    void rewarm_stopsBatchingUntilInlineIsMeasuredAgain() {
        BatchPolicy p = auto();
        warm(p, 30_000); // measured while the JIT compiler was still at work
        batches(p, 32, 8_000);
        assertThat(p.batchSync(64)).isTrue();

        p.rewarm();
        assertThat(p.batchSync(64)).isFalse();
        warm(p, 1_500); // the compiled model is small
        assertThat(p.batchSync(64)).isFalse();
        assertThat(p.inlineNanos()).isLessThan(2_000.0);
    }

    @Test
    void track_settlesNearTheTenthPercentile_andIgnoresHugeOutliers() {
        SplittableRandom random = new SplittableRandom(3);
        double estimate = -1;
        for (int i = 0; i < 20_000; i++) {
            // 80% around 10 us, 20% descheduled for milliseconds
            double sample = random.nextInt(5) == 0 ? 5_000_000 : 9_000 + random.nextInt(2_000);
            estimate = BatchPolicy.track(estimate, sample, 1.1);
        }
        assertThat(estimate).isBetween(9_000.0, 10_000.0);

        double fromCold = BatchPolicy.lowest(-1, 50_000_000); // the first call ran in the interpreter
        assertThat(fromCold).isEqualTo(50_000_000.0);
        fromCold = BatchPolicy.lowest(fromCold, 2_000);
        assertThat(BatchPolicy.lowest(fromCold, 3_000)).isEqualTo(2_000.0);
    }

    @Test
    void batchEstimate_usedOnlyAfterWarmBatches_andAnOutlierFirstDoesNotStick() {
        BatchPolicy p = auto();
        warm(p, 25_000);
        p.recordBatch(32, 32 * 900_000L); // the dispatcher was descheduled behind busy callers
        assertThat(p.batchedNanos(32)).as("one batch is not yet an estimate").isZero();
        assertThat(p.batchSync(64)).isTrue();
        batches(p, 32, 8_000);
        assertThat(p.batchedNanos(32)).isLessThan(9_000.0);
        assertThat(p.batchSync(64)).isTrue();
    }

    @Test
    void forgetBatches_afterABadEstimate_batchesAgainToMeasure() {
        BatchPolicy p = auto();
        warm(p, 25_000);
        batches(p, 32, 40_000); // measured at a bad moment: batching looks like a loss
        assertThat(p.batchSync(64)).isFalse();

        p.forgetBatches(32);
        assertThat(p.batchSync(64)).as("unmeasured again: batch to measure").isTrue();
        batches(p, 32, 8_000);
        assertThat(p.batchSync(64)).isTrue();
    }

    /** {@link BatchPolicy#WARM_BATCHES} batches of {@code size} records at {@code perRecord} ns each. */
    private static void batches(BatchPolicy p, int size, long perRecord) {
        for (int i = 0; i < BatchPolicy.WARM_BATCHES; i++) {
            p.recordBatch(size, size * perRecord);
        }
    }

    private static boolean manySamples(BatchPolicy p) {
        for (int i = 0; i < 10_000; i++) {
            if (p.sampleInline()) {
                return true;
            }
        }
        return false;
    }
}
