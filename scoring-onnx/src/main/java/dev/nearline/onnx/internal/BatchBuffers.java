package dev.nearline.onnx.internal;

import dev.nearline.api.DataType;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.jspecify.annotations.Nullable;

/**
 * Reusable direct buffers for batched calls, so that a batch does not allocate native memory per
 * call: a lease holds one growable direct buffer per model input and output. Leases are kept in a
 * small lock-free free list (compare-and-set slots, one per cache line); a lease whose buffers grew
 * beyond {@value #KEEP_BYTES} bytes is dropped after use rather than kept. Thread-safe.
 */
public final class BatchBuffers {
    private static final int STRIDE_SHIFT = 4;
    private static final long KEEP_BYTES = 16L << 20;

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

    /** A lease for the calling thread's exclusive use until {@link #release}. */
    public Lease acquire() {
        int start = (int) (Thread.currentThread().getId() % capacity);
        for (int k = 0; k < capacity; k++) {
            int index = ((start + k) % capacity) << STRIDE_SHIFT;
            Lease l = free.get(index);
            if (l != null && free.compareAndSet(index, l, null)) {
                return l;
            }
        }
        return new Lease();
    }

    /** Returns a lease; it is kept for reuse if there is room and its buffers are not too large. */
    public void release(Lease lease) {
        if (lease.bytes > KEEP_BYTES) {
            return;
        }
        for (int k = 0; k < capacity; k++) {
            int index = k << STRIDE_SHIFT;
            if (free.get(index) == null && free.compareAndSet(index, null, lease)) {
                return;
            }
        }
    }

    /** One direct buffer per input and per output, grown on demand. */
    public final class Lease {
        private final @Nullable ByteBuffer[] in = new ByteBuffer[inputs];
        private final @Nullable ByteBuffer[] out = new ByteBuffer[outputs];
        private long bytes;

        private Lease() {
        }

        /** A native-order view of {@code count} elements of {@code type} over input {@code index}'s buffer. */
        public Buffer input(int index, DataType type, int count) {
            return view(in, index, type, count);
        }

        /** A native-order view of {@code count} elements of {@code type} over output {@code index}'s buffer. */
        public Buffer output(int index, DataType type, int count) {
            return view(out, index, type, count);
        }

        private Buffer view(@Nullable ByteBuffer[] buffers, int index, DataType type, int count) {
            int needed = count * type.byteSize();
            ByteBuffer b = buffers[index];
            if (b == null || b.capacity() < needed) {
                int size = Math.max(needed, b == null ? 0 : (int) Math.min(Integer.MAX_VALUE, 2L * b.capacity()));
                bytes += size - (b == null ? 0 : b.capacity());
                b = ByteBuffer.allocateDirect(size);
                buffers[index] = b;
            }
            ByteBuffer slice = b.duplicate().order(ByteOrder.nativeOrder());
            slice.limit(needed);
            return OrtTypes.typedView(slice, type);
        }
    }
}
