package dev.nearline.core.internal;

import java.util.Arrays;
import org.jspecify.annotations.Nullable;

/**
 * The state a {@link DriftRecorder} keeps for a drift monitor: the last {@code capacity} rows of
 * {@code columns} values in a ring, and per column how many window values fall in each bin of its
 * reference, kept up to date as rows enter and leave, so that the population stability index is a short
 * sum over bins. Columns without an explicit reference get one from the first {@code captureRows} rows
 * (quantile bins). While those rows fit the window, the window itself holds them; only a longer capture
 * needs a buffer of its own. The arithmetic (bins, PSI, quantile edges) is {@link DriftStatistics}'.
 *
 * <p>Every column always has bins: one bin (no edges) while its reference is being captured, plus a last
 * slot that counts NaN values. So {@link #add} runs the same branch-free steps for every value: decrement
 * the evicted value's slot, find the new value's bin, increment it.
 *
 * <p>Not thread-safe: the recorder calls every method while holding its lock. {@link #add} allocates
 * nothing except once, on the row that completes the captured reference.
 */
public final class DriftWindow {
    /** Bins per column at most (a bin index is stored in a byte per value, next to the NaN slot). */
    public static final int MAX_BINS = 126;
    /**
     * Captured rows the quantile edges are taken from (at most): ten values for each of 100 bins, a hundred
     * for the default ten. The proportions are counted over every captured value, so the edges need not be
     * exact quantiles.
     */
    static final int EDGE_SAMPLE = 1024;

    private final int columns;
    private final int capacity;
    private final float[] values;
    /** Per value, its slot in {@code counts[column]}. */
    private final byte[] slots;
    /** Per column, edges rounded up to floats, so that {@code v >= edge} holds for a float as for the double. */
    private final float[][] floatEdges;
    /** Per column, window values per bin, then the NaN count. */
    private final int[][] counts;
    private final boolean[] ready;
    private final double[][] edges;
    private final double[][] proportions;
    private final double[][] expected;
    private final double[][] logExpected;
    private final int captureBins;
    private final int captureRows;
    private boolean capturing;
    private float @Nullable [] capture;
    private int captured;
    private int next;
    private int size;

    /**
     * An empty window.
     *
     * @param references per column, {@code {edges, proportions}} of an explicit reference (already
     *     validated, proportions summing to 1), or null to capture one
     * @throws IllegalArgumentException when the arrays would exceed the largest Java array
     */
    public DriftWindow(int capacity, int captureRows, int captureBins, double[] @Nullable [][] references) {
        this.columns = references.length;
        this.capacity = capacity;
        this.captureRows = captureRows;
        this.captureBins = captureBins;
        long cells = (long) capacity * columns;
        if (cells > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("a window of " + capacity + " records of " + columns
                    + " values is too large; use a smaller window");
        }
        boolean anyCaptured = false;
        for (double[][] ref : references) {
            anyCaptured |= ref == null;
        }
        boolean ownBuffer = anyCaptured && captureRows > capacity;
        if (ownBuffer && (long) captureRows * columns > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("capturing a reference of " + captureRows + " records of " + columns
                    + " values is too large; capture fewer records");
        }
        this.values = new float[(int) cells];
        this.slots = new byte[(int) cells];
        this.floatEdges = new float[columns][];
        this.counts = new int[columns][];
        this.ready = new boolean[columns];
        this.edges = new double[columns][];
        this.proportions = new double[columns][];
        this.expected = new double[columns][];
        this.logExpected = new double[columns][];
        for (int c = 0; c < columns; c++) {
            double[][] ref = references[c];
            if (ref == null) {
                floatEdges[c] = new float[0];
                counts[c] = new int[2];
            } else {
                install(c, ref[0], ref[1], new int[ref[1].length + 1]);
            }
        }
        this.capturing = anyCaptured;
        this.capture = ownBuffer ? new float[captureRows * columns] : null;
    }

    /** Values per row. */
    public int columns() {
        return columns;
    }

    /** Rows in the window now (at most the capacity). */
    public int size() {
        return size;
    }

    /** Whether the window holds {@code capacity} rows. */
    public boolean isFull() {
        return size == capacity;
    }

    /**
     * Adds one row (the first {@link #columns()} values of {@code row}), evicting the oldest when full.
     *
     * @return whether this row completed the captured reference
     */
    public boolean add(float[] row) {
        int base = next * columns;
        boolean evict = size == capacity;
        for (int c = 0; c < columns; c++) {
            int i = base + c;
            float v = row[c];
            int[] cc = counts[c];
            if (evict) {
                cc[slots[i]]--;
            }
            values[i] = v;
            int s = v == v ? DriftStatistics.bin(floatEdges[c], v) : cc.length - 1;
            slots[i] = (byte) s;
            cc[s]++;
        }
        if (++next == capacity) {
            next = 0;
        }
        if (!evict) {
            size++;
        }
        if (capturing) {
            float[] cap = capture;
            if (cap != null) {
                System.arraycopy(row, 0, cap, captured * columns, columns);
            }
            if (++captured == captureRows) {
                finishCapture();
                return true;
            }
        }
        return false;
    }

    /** The population stability index of column {@code c} against its reference; NaN without one or without values. */
    public double psi(int c) {
        return ready[c] ? DriftStatistics.psi(counts[c], expected[c], logExpected[c]) : Double.NaN;
    }

    /** A copy of what a snapshot needs; cheap enough to take under the monitor's lock (mostly one array copy). */
    public Copy copy() {
        int[][] countsCopy = new int[columns][];
        for (int c = 0; c < columns; c++) {
            countsCopy[c] = counts[c].clone();
        }
        return new Copy(this, Arrays.copyOf(values, size * columns), countsCopy);
    }

    /** The window as copied by {@link #copy()}; computing its statistics does not need the lock. */
    public static final class Copy {
        private final int columns;
        private final int size;
        private final float[] values;
        private final int[][] counts;
        private final boolean[] ready;
        private final double[][] edges;
        private final double[][] proportions;
        private final double[][] expected;
        private final double[][] logExpected;

        Copy(DriftWindow w, float[] values, int[][] counts) {
            this.columns = w.columns;
            this.size = w.size;
            this.values = values;
            this.counts = counts;
            // The per-column arrays are replaced, never modified, once installed: sharing them is safe.
            this.ready = w.ready.clone();
            this.edges = w.edges.clone();
            this.proportions = w.proportions.clone();
            this.expected = w.expected.clone();
            this.logExpected = w.logExpected.clone();
        }

        /** Rows in the window. */
        public int size() {
            return size;
        }

        /** NaN values of column {@code c}. */
        public int missing(int c) {
            return counts[c][counts[c].length - 1];
        }

        /** The non-NaN values of column {@code c}, sorted ascending (a new array). */
        public float[] sorted(int c) {
            float[] out = new float[size - missing(c)];
            int n = 0;
            for (int r = 0; r < size; r++) {
                float v = values[r * columns + c];
                if (v == v) {
                    out[n++] = v;
                }
            }
            Arrays.sort(out);
            return out;
        }

        /** PSI of column {@code c}; NaN while its reference is being captured or without values. */
        public double psi(int c) {
            return ready[c] ? DriftStatistics.psi(counts[c], expected[c], logExpected[c]) : Double.NaN;
        }

        /** The reference bin edges of column {@code c}, or null while capturing (shared: do not modify). */
        public double @Nullable [] edges(int c) {
            return ready[c] ? edges[c] : null;
        }

        /** The reference proportions of column {@code c}, or null while capturing (shared: do not modify). */
        public double @Nullable [] proportions(int c) {
            return ready[c] ? proportions[c] : null;
        }
    }

    /**
     * Gives every column still capturing its reference one: quantile edges from an evenly spaced sample of
     * the captured values (sorting them all would make the record that completes the capture pay for it),
     * proportions counted over all of them, and bin counts for the window. Reads the rows in order, as they
     * lie in memory.
     */
    private void finishCapture() {
        capturing = false;
        float[] cap = capture;
        capture = null;
        // Without a buffer of its own, the capture is the window: its first rows, not yet overwritten.
        float[] source = cap != null ? cap : values;
        boolean[] fresh = new boolean[columns];
        float[][] fe = new float[columns][];
        double[][] e = new double[columns][];
        for (int c = 0; c < columns; c++) {
            if (!ready[c]) {
                fresh[c] = true;
                e[c] = DriftStatistics.quantileEdges(sortedSample(source, c), captureBins);
                fe[c] = DriftStatistics.toFloatEdges(e[c]);
            }
        }
        int[][] window = new int[columns][];
        for (int c = 0; c < columns; c++) {
            window[c] = fresh[c] ? new int[e[c].length + 2] : counts[c];
        }
        for (int r = 0; r < size; r++) {
            for (int c = 0; c < columns; c++) {
                if (fresh[c]) {
                    int i = r * columns + c;
                    float v = values[i];
                    int s = v == v ? DriftStatistics.bin(fe[c], v) : window[c].length - 1;
                    slots[i] = (byte) s;
                    window[c][s]++;
                }
            }
        }
        // The window's counts are the reference's when the window is the capture.
        int[][] reference = window;
        if (cap != null) {
            reference = new int[columns][];
            for (int c = 0; c < columns; c++) {
                reference[c] = fresh[c] ? new int[e[c].length + 2] : null;
            }
            for (int r = 0; r < captured; r++) {
                for (int c = 0; c < columns; c++) {
                    if (fresh[c]) {
                        float v = cap[r * columns + c];
                        reference[c][v == v ? DriftStatistics.bin(fe[c], v) : e[c].length + 1]++;
                    }
                }
            }
        }
        for (int c = 0; c < columns; c++) {
            if (fresh[c]) {
                int[] rc = reference[c];
                double[] p = new double[e[c].length + 1];
                int n = captured - rc[rc.length - 1];
                for (int b = 0; b < p.length; b++) {
                    p[b] = n == 0 ? 1.0 / p.length : (double) rc[b] / n;
                }
                install(c, e[c], p, window[c]);
            }
        }
    }

    /**
     * The non-NaN values of column {@code c} in the first {@code captured} rows of {@code source}, or an
     * evenly spaced sample of {@link #EDGE_SAMPLE} rows of them, sorted.
     */
    private float[] sortedSample(float[] source, int c) {
        int rows = Math.min(captured, EDGE_SAMPLE);
        float[] sample = new float[rows];
        int n = 0;
        for (int i = 0; i < rows; i++) {
            float v = source[(int) ((long) i * captured / rows) * columns + c];
            if (v == v) {
                sample[n++] = v;
            }
        }
        sample = Arrays.copyOf(sample, n);
        Arrays.sort(sample);
        return sample;
    }

    private void install(int c, double[] e, double[] p, int[] windowCounts) {
        if (p.length > MAX_BINS || p.length != e.length + 1) {
            throw new IllegalArgumentException("a reference needs edges.length + 1 proportions and at most " + MAX_BINS
                    + " bins, got " + e.length + " edges and " + p.length + " proportions");
        }
        double[] floored = new double[p.length];
        double[] log = new double[p.length];
        for (int b = 0; b < p.length; b++) {
            floored[b] = Math.max(p[b], DriftStatistics.EPSILON);
            log[b] = Math.log(floored[b]);
        }
        edges[c] = e;
        proportions[c] = p;
        expected[c] = floored;
        logExpected[c] = log;
        floatEdges[c] = DriftStatistics.toFloatEdges(e);
        counts[c] = windowCounts;
        ready[c] = true;
    }
}
