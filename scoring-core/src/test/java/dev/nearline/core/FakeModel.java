package dev.nearline.core;

import dev.nearline.api.Model;
import dev.nearline.api.ScoringException;
import dev.nearline.api.Tensors;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Base of the fake models: counts calls and closes, fails calls made after close with UNAVAILABLE, and
 * notices a close that happens while a call is running (which would crash a native backend). Every
 * instance is registered so that {@link ModelLeakChecker} can fail a test that leaves one open.
 */
public abstract class FakeModel implements Model {
    private static final Queue<FakeModel> CREATED = new ConcurrentLinkedQueue<>();

    public final AtomicInteger predictCalls = new AtomicInteger();
    public final AtomicInteger batchCalls = new AtomicInteger();
    public final AtomicInteger closeCalls = new AtomicInteger();
    private final AtomicInteger running = new AtomicInteger();
    private volatile boolean closedWhileRunning;
    private final java.util.concurrent.CountDownLatch closedLatch = new java.util.concurrent.CountDownLatch(1);

    protected FakeModel() {
        CREATED.add(this);
    }

    /** One record's (or one batch's) outputs. */
    protected abstract Tensors compute(Tensors inputs);

    @Override
    public final Tensors predict(Tensors inputs) {
        predictCalls.incrementAndGet();
        return guarded(() -> compute(inputs));
    }

    /** Runs {@code call} as one backend call: refused after close, and tracked while it runs. */
    protected final <T> T guarded(java.util.function.Supplier<T> call) {
        if (closeCalls.get() > 0) {
            throw new ScoringException(ScoringException.Kind.UNAVAILABLE, getClass().getSimpleName() + " is closed");
        }
        running.incrementAndGet();
        try {
            return call.get();
        } finally {
            running.decrementAndGet();
        }
    }

    @Override
    public void close() {
        if (running.get() > 0) {
            closedWhileRunning = true;
        }
        closeCalls.incrementAndGet();
        closedLatch.countDown();
    }

    /**
     * Waits up to 10 s for the first close. After a close with a short grace period the engine closes models
     * on the thread of the last record in flight, which may finish just after that record's future.
     */
    public boolean awaitClosed() throws InterruptedException {
        return closedLatch.await(10, java.util.concurrent.TimeUnit.SECONDS);
    }

    public boolean isClosed() {
        return closeCalls.get() > 0;
    }

    public boolean closedWhileRunning() {
        return closedWhileRunning;
    }

    /** The fake models created since the last call, in creation order. */
    static List<FakeModel> drainCreated() {
        List<FakeModel> out = new ArrayList<>();
        for (FakeModel m; (m = CREATED.poll()) != null; ) {
            out.add(m);
        }
        return out;
    }
}
