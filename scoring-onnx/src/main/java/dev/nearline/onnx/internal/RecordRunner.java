package dev.nearline.onnx.internal;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.nearline.api.Tensor;
import dev.nearline.api.Tensors;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;

/**
 * Runs one record: on a slot of the model's {@link SlotPool} when its input shapes are the pooled ones
 * (copied into reused native buffers, outputs written into pinned tensors unless ONNX Runtime refused the
 * predicted output shapes), else on the plain per-call path. The pool is made when the model loads if the signature fixes every input
 * shape, else for the first record's shapes when they are small enough ({@link PoolSizing}). Thread-safe;
 * {@link #close()} must not race with {@link #predict}.
 */
public final class RecordRunner {
    private final ModelSession session;
    private final OrtSignature sig;
    private final AtomicReference<@Nullable SlotPool> pool = new AtomicReference<>();
    private boolean closed;

    /** A runner on {@code session}, with the pool for the signature's fixed shapes, if any. */
    public RecordRunner(ModelSession session) {
        this.session = session;
        this.sig = session.sig;
        if (sig.poolable()) {
            pool.set(PoolSizing.forSignature(session.env, sig));
        }
    }

    /** Runs {@code inputs}; see {@link dev.nearline.onnx.OnnxModel#predict} for the errors. */
    public Tensors predict(Tensors inputs) {
        SlotPool p = pool.get();
        if (p == null || !fitsPool(p, inputs)) {
            // not the pooled shape (or no pool yet): full validation, then maybe create the pool
            sig.validate(inputs);
            p = sig.poolable() && p == null ? latchPool(inputs) : null;
            if (p != null && !fitsPool(p, inputs)) {
                p = null;
            }
        }
        if (p != null) {
            SlotPool.Slot slot;
            try {
                slot = p.acquire();
            } catch (OrtException e) {
                throw session.failure(e);
            }
            if (slot != null) {
                try {
                    return runPooled(p, slot, inputs);
                } finally {
                    p.release(slot);
                }
            }
        }
        return session.runPlain(inputs).toTensors();
    }

    /** The slot pool, once created; for tests. */
    public @Nullable SlotPool pool() {
        return pool.get();
    }

    /** Closes the pool's native buffers; a pool latched afterwards is refused. */
    public synchronized void close() {
        closed = true;
        SlotPool p = pool.getAndSet(null);
        if (p != null) {
            p.close();
        }
    }

    /**
     * Whether every input is present with its declared type and exactly the pool's shape, which
     * conforms to the signature: the whole validation a pooled record needs, and allocation-free.
     */
    private boolean fitsPool(SlotPool p, Tensors inputs) {
        String[] names = sig.inputNames;
        for (int i = 0; i < names.length; i++) {
            Tensor t = inputs.get(names[i]);
            if (t == null || t.type() != sig.inputSpecs[i].type() || !p.matches(i, t)) {
                return false;
            }
        }
        return true;
    }

    /** Creates the pool for the shapes of the first record when the signature does not fix them. */
    private @Nullable SlotPool latchPool(Tensors inputs) {
        long[][] shapes = new long[sig.inputNames.length][];
        for (int i = 0; i < shapes.length; i++) {
            Tensor t = Objects.requireNonNull(inputs.get(sig.inputNames[i]));
            if (t.size() == 0) {
                return null;
            }
            shapes[i] = t.shape();
        }
        SlotPool fresh = PoolSizing.forRecord(session.env, sig, shapes); // a record chose these shapes: bounded
        if (fresh == null) {
            return null;
        }
        synchronized (this) {
            if (closed) {
                return null;
            }
            return pool.compareAndSet(null, fresh) ? fresh : pool.get();
        }
    }

    private Tensors runPooled(SlotPool p, SlotPool.Slot slot, Tensors inputs) {
        for (int i = 0; i < sig.inputNames.length; i++) {
            slot.fill(i, Objects.requireNonNull(inputs.get(sig.inputNames[i])));
        }
        if (p.pinned()) {
            try {
                p.ensurePinned(slot);
                // The result owns nothing here: the pinned outputs belong to the slot.
                session.runInto(slot.inputs(), slot.outputs());
                return p.readPinned(slot);
            } catch (OrtException e) {
                // Either the record is bad (the unpinned run fails too) or a declared output shape
                // was wrong for this model (so ONNX Runtime refused the pinned outputs), and pinning must stop.
                Tensors result = runSlot(slot);
                p.disablePinning();
                Log.LOG.debug("model '{}': pinned outputs failed ({}), using per-call outputs", session.model,
                        OrtErrors.message(e));
                return result;
            }
        }
        return runSlot(slot);
    }

    private Tensors runSlot(SlotPool.Slot slot) {
        try (OrtSession.Result r = session.run(slot.inputs())) {
            return session.read(r).toTensors();
        } catch (OrtException e) {
            throw session.failure(e);
        }
    }
}
