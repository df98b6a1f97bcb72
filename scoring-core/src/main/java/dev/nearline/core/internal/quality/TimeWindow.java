package dev.nearline.core.internal.quality;

import dev.nearline.core.QualityMonitor.Task;
import dev.nearline.core.QualitySnapshot;

/**
 * The pairs joined in the last period, kept as {@code buckets} statistics of one {@code period / buckets}
 * each (no pairs are stored): at any moment the window holds the labels of the current, partly elapsed bucket
 * and of the {@code buckets - 1} before it, that is of the last {@code (1 - 1/buckets) × period} to
 * {@code period}. Memory: {@code buckets} statistics (about 8 KiB each for a binary classifier), allocated
 * as first used. Not thread-safe: its owner locks.
 */
final class TimeWindow {
    private final Task task;
    private final double threshold;
    private final long bucketNanos;
    private final Stats[] buckets;
    private final long[] index;

    TimeWindow(Task task, double threshold, long periodNanos, int buckets) {
        this.task = task;
        this.threshold = threshold;
        this.bucketNanos = Math.max(1, periodNanos / buckets);
        this.buckets = new Stats[buckets];
        this.index = new long[buckets];
        java.util.Arrays.fill(index, Long.MIN_VALUE);
    }

    void add(double a, double y, long nowNanos) {
        long i = Math.floorDiv(nowNanos, bucketNanos);
        int slot = (int) Math.floorMod(i, (long) buckets.length);
        Stats s = buckets[slot];
        if (s == null) {
            s = new Stats(task, threshold);
            buckets[slot] = s;
            index[slot] = i;
        } else if (index[slot] != i) {
            s.clear();
            index[slot] = i;
        }
        s.add(a, y, 1);
    }

    /** The statistics of the buckets still inside the period at {@code nowNanos}. */
    Stats merged(long nowNanos) {
        long current = Math.floorDiv(nowNanos, bucketNanos);
        Stats m = new Stats(task, threshold);
        for (int s = 0; s < buckets.length; s++) {
            if (buckets[s] != null && index[s] <= current && index[s] > current - buckets.length) {
                m.merge(buckets[s]);
            }
        }
        return m;
    }

    QualitySnapshot.Window toWindow(long nowNanos) {
        return merged(nowNanos).toWindow();
    }
}
