package dev.nearline.core;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A {@link FakeLinearModel} whose calls count down {@link #entered} and then wait for {@link #release},
 * so a test can hold a record inside the model. A call interrupted while waiting fails: the engine must
 * not interrupt work in flight.
 */
public final class BlockingModel extends FakeLinearModel {
    public final CountDownLatch entered;
    public final CountDownLatch release = new CountDownLatch(1);

    public BlockingModel(int expectedCalls) {
        super(new float[] {1f}, 0f);
        this.entered = new CountDownLatch(expectedCalls);
    }

    @Override
    protected dev.nearline.api.Tensors compute(dev.nearline.api.Tensors inputs) {
        entered.countDown();
        try {
            if (!release.await(30, TimeUnit.SECONDS)) {
                throw new IllegalStateException("test never released the model");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted inside the model", e);
        }
        return super.compute(inputs);
    }
}
