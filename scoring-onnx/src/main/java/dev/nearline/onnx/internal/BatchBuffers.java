package dev.nearline.onnx.internal;

import dev.nearline.api.DataType;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.jspecify.annotations.Nullable;

/**
 * Reusable direct buffers for batched calls, so that a batch does not allocate native memory per
 * call: a lease holds one growable direct buffer per model input and output, and the {@link BatchFeed}s
 * (ONNX Runtime tensors over those buffers) it made, one per batch row count up to
 * {@value #MAX_CACHED_ROWS} rows. Leases are kept in a small lock-free free list (compare-and-set slots,
 * one per cache line); a lease whose buffers grew beyond {@value #KEEP_BYTES} bytes, or that finds no
 * free place, is closed after use rather than kept. Thread-safe.
 */
public final class BatchBuffers {
    private static final int STRIDE_SHIFT = 4;
    private static final long KEEP_BYTES = 16L << 20;
    private static final int MAX_CACHED_ROWS = 1024;

    private final int inputs;
    private final int outputs;
    private final int capacity;
    private final AtomicReferenceArray<@Nullable Lease> free;

    /** Buffers for a model with {@code inputs} inputs and {@code outputs} outputs, keeping up to {@code capacity} leases. */
    public BatchBuffers(int inputs, int outputs, int capacity) {
        this.inputs = inputs;
        this.outputs = outputs;
        this.capacity = Math.max(1, capacity);
        this.free = new AtomicReferenceArray<>(this.capacity << STRIDE_SHIFT);
    }

    /**
     * A lease for the calling thread's exclusive use until {@link #release}: the one kept in the thread's
     * home place if any (a thread usually gets back the lease it returned, with its feeds), else any kept
     * one, else a new one.
     */
    public Lease acquire() {
        int start = home();
        for (int k = 0; k < capacity; k++) {
            int at = start + k;
            int index = (at >= capacity ? at - capacity : at) << STRIDE_SHIFT;
            Lease l = free.get(index);
            if (l != null && free.compareAndSet(index, l, null)) {
                return l;
            }
        }
        return new Lease();
    }

    /**
     * Returns a lease; it is kept for reuse, in the thread's home place or the next free one, if there is
     * room and its buffers are not too large.
     */
    public void release(Lease lease) {
        if (lease.bytes <= KEEP_BYTES) {
            int start = home();
            for (int k = 0; k < capacity; k++) {
                int at = start + k;
                int index = (at >= capacity ? at - capacity : at) << STRIDE_SHIFT;
                if (free.get(index) == null && free.compareAndSet(index, null, lease)) {
                    return;
                }
            }
        }
        lease.closeFeeds();
    }

    private int home() {
        return ((int) Thread.currentThread().getId() & Integer.MAX_VALUE) % capacity; // an int division, not a long one
    }

    /**
     * Closes the tensors of every lease kept for reuse. Only when no lease is out (the model is closing
     * and no call is running).
     */
    public void close() {
        for (int k = 0; k < capacity; k++) {
            Lease l = free.getAndSet(k << STRIDE_SHIFT, null);
            if (l != null) {
                l.closeFeeds();
            }
        }
    }

    /** One direct buffer per input and per output, grown on demand. */
    public final class Lease {
        private final @Nullable ByteBuffer[] in = new ByteBuffer[inputs];
        private final @Nullable ByteBuffer[] out = new ByteBuffer[outputs];
        private long bytes;
        /** Feeds by row count; all of them view the current buffers. */
        private @Nullable BatchFeed @Nullable [] feeds;
        /**
         * Row batches over the current buffers kept for reuse by their maker (one of a single row, one of any
         * other capacity); dropped with the feeds when the buffers are replaced.
         */
        private @Nullable Object rowsOfOne;
        private @Nullable Object rowsOfMany;

        private Lease() {
        }

        /** The feed kept for batches of {@code rows} rows with outputs pinned or not, or null. */
        public @Nullable BatchFeed feed(long rows, boolean pinned) {
            @Nullable BatchFeed[] f = feeds;
            if (f == null || rows >= f.length) {
                return null;
            }
            BatchFeed feed = f[(int) rows];
            return feed != null && feed.pinned() == pinned ? feed : null;
        }

        /**
         * Keeps {@code feed}, made over this lease's current buffers for {@code rows} rows, for later batches
         * of that size, in place of any feed kept for it; returns false (and the caller closes the feed) when
         * it cannot be reused or {@code rows} is beyond the cache.
         */
        public boolean keep(long rows, BatchFeed feed) {
            if (!feed.reusable() || rows > MAX_CACHED_ROWS) {
                return false;
            }
            @Nullable BatchFeed[] f = feeds;
            if (f == null || rows >= f.length) {
                int size = (int) Math.min(MAX_CACHED_ROWS + 1, Math.max(rows + 1, f == null ? 64 : 2L * f.length));
                f = f == null ? new BatchFeed[size] : Arrays.copyOf(f, size);
                feeds = f;
            }
            BatchFeed old = f[(int) rows];
            if (old != null && old != feed) {
                old.close();
            }
            f[(int) rows] = feed;
            return true;
        }

        /** The row batch kept for {@code capacity} rows (see {@link #keepRows}), or null. */
        public @Nullable Object keptRows(int capacity) {
            return capacity == 1 ? rowsOfOne : rowsOfMany;
        }

        /** Keeps {@code rows}, a row batch of {@code capacity} rows over this lease's current buffers, for reuse. */
        public void keepRows(int capacity, Object rows) {
            if (capacity == 1) {
                rowsOfOne = rows;
            } else {
                rowsOfMany = rows;
            }
        }

        /** Closes every kept feed (their buffers are being replaced, or the lease is dropped). */
        void closeFeeds() {
            rowsOfOne = null;
            rowsOfMany = null;
            @Nullable BatchFeed[] f = feeds;
            if (f == null) {
                return;
            }
            for (int i = 0; i < f.length; i++) {
                BatchFeed feed = f[i];
                if (feed != null) {
                    feed.close();
                    f[i] = null;
                }
            }
        }

        /** A native-order view of {@code count} elements of {@code type} over input {@code index}'s buffer. */
        public Buffer input(int index, DataType type, int count) {
            return view(in, index, type, count);
        }

        /** A native-order view of {@code count} elements of {@code type} over output {@code index}'s buffer. */
        public Buffer output(int index, DataType type, int count) {
            return view(out, index, type, count);
        }

        /**
         * @throws IllegalArgumentException when {@code count} elements do not fit one buffer (the caller keeps
         *     batches below that)
         * @throws OutOfMemoryError when direct memory is exhausted; the lease stays consistent (its old
         *     buffers and no feeds)
         */
        private Buffer view(@Nullable ByteBuffer[] buffers, int index, DataType type, int count) {
            long wanted = (long) count * type.byteSize();
            if (count < 0 || wanted > Integer.MAX_VALUE) {
                throw new IllegalArgumentException(count + " " + type + " elements do not fit one direct buffer");
            }
            int needed = (int) wanted;
            ByteBuffer b = buffers[index];
            if (b == null || b.capacity() < needed) {
                int size = Math.max(needed, b == null ? 0 : (int) Math.min(Integer.MAX_VALUE, 2L * b.capacity()));
                closeFeeds(); // they view the buffer being replaced
                ByteBuffer grown = ByteBuffer.allocateDirect(size);
                bytes += size - (b == null ? 0 : b.capacity());
                b = grown;
                buffers[index] = b;
            }
            ByteBuffer slice = b.duplicate().order(ByteOrder.nativeOrder());
            slice.limit(needed);
            return OrtTypes.typedView(slice, type);
        }
    }
}
