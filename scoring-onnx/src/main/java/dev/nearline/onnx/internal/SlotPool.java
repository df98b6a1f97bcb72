package dev.nearline.onnx.internal;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import dev.nearline.api.DataType;
import dev.nearline.api.Tensor;
import dev.nearline.api.Tensors;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.jspecify.annotations.Nullable;

/**
 * Reusable native state for records of one fixed set of input shapes: each {@link Slot} holds direct
 * input buffers with their ONNX Runtime tensors and, while pinning is on, pinned output tensors that
 * {@code run} writes into. Slots are checked out without locks or thread locals: an array of
 * compare-and-set guarded references, one per cache line, scanned from a thread-dependent start. The pool
 * grows on demand up to its capacity; when every slot is busy, {@link #acquire()} returns {@code null} and
 * the caller takes the per-call path.
 *
 * <p>Pinning starts on when the output shapes can be predicted: ONNX Runtime refuses a run whose pinned
 * output has another shape than the one the model produces, and the caller then runs unpinned and turns
 * pinning off for good. So the first record takes the path every later one takes, and the second record
 * of a process meets no first-time work (creating output tensors, loading classes, linking the slot
 * array's atomic operations) that a first unpinned run would have left to it.
 *
 * <p>Thread-safe, except {@link #close()}, which must not run concurrently with other calls.
 */
public final class SlotPool implements AutoCloseable {
    /** One reference per 64-byte cache line (16 compressed references), against false sharing. */
    private static final int STRIDE_SHIFT = 4;

    private final OrtEnvironment env;
    private final String[] inputNames;
    private final DataType[] inputTypes;
    private final long[][] inputShapes;
    private final String[] outputNames;
    private final DataType @Nullable [] outputTypes;
    private final long @Nullable [][] outputShapes;
    private final int capacity;
    private final AtomicReferenceArray<@Nullable Slot> free;
    private final AtomicInteger created = new AtomicInteger();
    private final List<Slot> all = new ArrayList<>();
    /** Places whose slot failed to be created (out of memory, say), for the next creation to reuse. */
    private final Queue<Integer> holes = new ConcurrentLinkedQueue<>();
    private volatile Pinning pinning;

    /**
     * A pool for inputs of exactly {@code inputShapes}. {@code outputShapes} are the predicted output
     * shapes (every output a fixed-width tensor), or {@code null} when they cannot be predicted, which
     * turns output pinning off.
     */
    public SlotPool(OrtEnvironment env, String[] inputNames, DataType[] inputTypes, long[][] inputShapes,
            String[] outputNames, DataType @Nullable [] outputTypes, long @Nullable [][] outputShapes, int capacity) {
        this.env = env;
        this.inputNames = inputNames.clone();
        this.inputTypes = inputTypes.clone();
        this.inputShapes = inputShapes.clone();
        this.outputNames = outputNames.clone();
        this.outputTypes = outputTypes == null ? null : outputTypes.clone();
        this.outputShapes = outputShapes == null ? null : outputShapes.clone();
        this.capacity = Math.max(1, capacity);
        this.free = new AtomicReferenceArray<>(this.capacity << STRIDE_SHIFT);
        this.pinning = outputShapes == null ? Pinning.OFF : Pinning.ON;
    }

    /** Whether {@code tensor}, bound to input {@code index}, has this pool's shape for that input. */
    public boolean matches(int index, Tensor tensor) {
        return tensor.hasShape(inputShapes[index]);
    }

    /** The pooled shape of input {@code index} (a copy). */
    public long[] inputShape(int index) {
        return inputShapes[index].clone();
    }

    /** The number of places taken for slots so far (a place whose slot failed to be created is reused). */
    public int slotsCreated() {
        return created.get();
    }

    /**
     * A free slot, owned by the caller until {@link #release}; a new one while below capacity; or
     * {@code null} when all slots are busy.
     */
    public @Nullable Slot acquire() throws OrtException {
        while (true) {
            int n = created.get();
            if (n > 0) {
                int start = (int) (Thread.currentThread().getId() % n);
                for (int k = 0; k < n; k++) {
                    int i = start + k;
                    if (i >= n) {
                        i -= n;
                    }
                    int index = i << STRIDE_SHIFT;
                    Slot s = free.get(index);
                    if (s != null && free.compareAndSet(index, s, null)) {
                        return s;
                    }
                }
            }
            if (!grow()) {
                return null;
            }
            // The new slot is free: take it (or another) as every later call does, so that the atomic
            // operations on the slot array are linked by the first call and not left to the second.
        }
    }

    /** Creates a free slot; false at capacity. */
    private boolean grow() throws OrtException {
        Integer hole = holes.poll();
        int home = hole != null ? hole : reserve();
        if (home < 0) {
            return false;
        }
        Slot s;
        try {
            s = new Slot(home);
        } catch (Throwable e) { // OutOfMemoryError from a direct buffer too: the place must not be lost
            holes.add(home);
            throw e;
        }
        synchronized (all) {
            all.add(s);
        }
        release(s);
        return true;
    }

    /** Returns a slot taken with {@link #acquire()}. */
    public void release(Slot slot) {
        free.setRelease(slot.home << STRIDE_SHIFT, slot);
    }

    /** Whether runs should write into the slots' pinned output tensors. */
    public boolean pinned() {
        return pinning == Pinning.ON;
    }

    /** Stops pinning for good (a pinned run failed where an unpinned one succeeded). */
    public void disablePinning() {
        pinning = Pinning.OFF;
    }

    /** Creates {@code slot}'s pinned output tensors if it has none yet; the caller owns the slot. */
    public void ensurePinned(Slot slot) throws OrtException {
        if (slot.outputs != null) {
            return;
        }
        DataType[] types = Objects.requireNonNull(outputTypes);
        long[][] shapes = Objects.requireNonNull(outputShapes);
        Buffer[] buffers = new Buffer[outputNames.length];
        OnnxTensor[] tensors = new OnnxTensor[outputNames.length];
        Map<String, OnnxTensor> map = new LinkedHashMap<>();
        try {
            for (int k = 0; k < outputNames.length; k++) {
                buffers[k] = OrtTypes.allocateDirect(types[k], Tensor.elementCount(shapes[k]));
                tensors[k] = OrtTypes.createTensor(env, types[k], buffers[k], shapes[k]);
                map.put(outputNames[k], tensors[k]);
            }
        } catch (Throwable e) { // OutOfMemoryError from a direct buffer too
            closeAll(tensors);
            throw e;
        }
        slot.outBuffers = buffers;
        slot.outTensors = tensors;
        slot.outputs = map;
    }

    /** Heap copies of the pinned outputs that the last run wrote into {@code slot}. */
    public Tensors readPinned(Slot slot) {
        DataType[] types = Objects.requireNonNull(outputTypes);
        long[][] shapes = Objects.requireNonNull(outputShapes);
        Buffer[] buffers = Objects.requireNonNull(slot.outBuffers);
        if (outputNames.length == 1) {
            return Tensors.of(outputNames[0], copy(types[0], buffers[0], shapes[0]));
        }
        TensorList out = new TensorList(outputNames.length);
        for (int k = 0; k < outputNames.length; k++) {
            // Tensors never modify their shape array, so every result may share the predicted one.
            out.add(outputNames[k], copy(types[k], buffers[k], shapes[k]));
        }
        return out.toTensors();
    }

    private static Tensor copy(DataType type, Buffer from, long[] shape) {
        return Batches.copy(type, from, 0, from.capacity(), shape);
    }

    /** Closes every slot's native tensors. Must not run concurrently with other calls. */
    @Override
    public void close() {
        synchronized (all) {
            for (Slot s : all) {
                s.close();
            }
            all.clear();
        }
    }

    private int reserve() {
        while (true) {
            int n = created.get();
            if (n >= capacity) {
                return -1;
            }
            if (created.compareAndSet(n, n + 1)) {
                return n;
            }
        }
    }

    private static void closeAll(@Nullable OnnxTensor[] tensors) {
        for (OnnxTensor t : tensors) {
            if (t != null) {
                t.close();
            }
        }
    }

    /** Native buffers and tensors for one call at a time; owned by whoever acquired it. */
    public final class Slot {
        private final int home;
        private final Buffer[] inBuffers;
        private final OnnxTensor[] inTensors;
        private final Map<String, OnnxTensor> inputs;
        private Buffer @Nullable [] outBuffers;
        private OnnxTensor @Nullable [] outTensors;
        private @Nullable Map<String, OnnxTensor> outputs;

        private Slot(int home) throws OrtException {
            this.home = home;
            int n = inputNames.length;
            inBuffers = new Buffer[n];
            inTensors = new OnnxTensor[n];
            inputs = new LinkedHashMap<>();
            try {
                for (int i = 0; i < n; i++) {
                    inBuffers[i] = OrtTypes.allocateDirect(inputTypes[i], Tensor.elementCount(inputShapes[i]));
                    inTensors[i] = OrtTypes.createTensor(env, inputTypes[i], inBuffers[i], inputShapes[i]);
                    inputs.put(inputNames[i], inTensors[i]);
                }
            } catch (Throwable e) { // OutOfMemoryError from a direct buffer too; acquire() reuses the place
                closeAll(inTensors);
                throw e;
            }
        }

        /** Copies {@code tensor}'s values into input {@code index}'s native buffer, without allocating. */
        public void fill(int index, Tensor tensor) {
            tensor.copyTo(inBuffers[index], 0);
        }

        /** The input tensors by name, for {@code run}. */
        public Map<String, OnnxTensor> inputs() {
            return inputs;
        }

        /** The pinned output tensors by name; only after {@link SlotPool#ensurePinned}. */
        public Map<String, OnnxTensor> outputs() {
            return Objects.requireNonNull(outputs);
        }

        private void close() {
            closeAll(inTensors);
            if (outTensors != null) {
                closeAll(outTensors);
            }
        }
    }
}
