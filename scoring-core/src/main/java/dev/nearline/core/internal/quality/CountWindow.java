package dev.nearline.core.internal.quality;

import dev.nearline.core.QualityMonitor.Task;
import dev.nearline.core.QualitySnapshot;

/**
 * The last {@code capacity} joined pairs, in the order they were added, with their {@link Stats} kept up to
 * date as pairs enter and leave. The floating-point sums are recomputed from the pairs once per
 * {@code capacity} additions, so rounding cannot build up. Memory: 16 bytes per pair plus the statistics. Not
 * thread-safe: its owner locks.
 */
final class CountWindow {
    private final double[] a;
    private final double[] y;
    private final Stats stats;
    private final Task task;
    private final double threshold;
    private int size;
    private int next;
    private int sinceRebase;

    CountWindow(Task task, double threshold, int capacity) {
        this.task = task;
        this.threshold = threshold;
        this.a = new double[capacity];
        this.y = new double[capacity];
        this.stats = new Stats(task, threshold);
    }

    void add(double av, double yv) {
        if (size == a.length) {
            stats.add(a[next], y[next], -1);
        } else {
            size++;
        }
        a[next] = av;
        y[next] = yv;
        stats.add(av, yv, 1);
        next = next + 1 == a.length ? 0 : next + 1;
        if (++sinceRebase >= a.length) {
            sinceRebase = 0;
            stats.clear();
            for (int i = 0; i < size; i++) {
                stats.add(a[i], y[i], 1);
            }
        }
    }

    int size() {
        return size;
    }

    boolean isFull() {
        return size == a.length;
    }

    Stats stats() {
        return stats;
    }

    QualitySnapshot.Window toWindow() {
        return stats.toWindow();
    }

    /** The pairs, oldest first: {@code [0]} the first values, {@code [1]} the second (for tests and differences). */
    double[][] pairs() {
        double[] ao = new double[size];
        double[] yo = new double[size];
        int start = size == a.length ? next : 0;
        for (int i = 0; i < size; i++) {
            int j = (start + i) % a.length;
            ao[i] = a[j];
            yo[i] = y[j];
        }
        return new double[][] {ao, yo};
    }

    @Override
    public String toString() {
        return "CountWindow[" + task + ", threshold=" + threshold + ", " + size + "/" + a.length + "]";
    }
}
