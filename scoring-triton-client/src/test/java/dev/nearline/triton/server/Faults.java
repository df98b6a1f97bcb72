package dev.nearline.triton.server;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Fault switches of the test server's inference endpoint (REST and gRPC). Thread-safe; reset
 * between tests. Holding requests uses a latch that the test releases, never a sleep.
 */
public final class Faults {
    private volatile CountDownLatch hold;
    private volatile CountDownLatch arrived;
    private final AtomicInteger statusTimes = new AtomicInteger();
    private volatile int status;
    private volatile String statusMessage = "";
    /** REST: close the connection without answering. */
    public volatile boolean dropConnection;
    /** REST: answer 200 with a body that is not valid JSON. */
    public volatile boolean malformedBody;
    /** Report the first output with its last dimension one larger than the data. */
    public volatile boolean wrongShape;
    /** Report the first output with another datatype of the same width. */
    public volatile boolean wrongDatatype;
    /** Rename the first output. */
    public volatile boolean wrongOutputName;
    /** Cut the last 3 bytes off the binary section (REST) or the first raw output (gRPC). */
    public volatile boolean truncateBinary;
    /** REST: leave binary_tensor_data out of the server metadata and reject binary requests with 400. */
    public volatile boolean noBinaryExtension;
    /** gRPC: answer with typed contents instead of raw_output_contents. */
    public volatile boolean typedGrpcOutputs;
    /** Echo another request id. */
    public volatile boolean wrongId;
    /** Answer the first output with one row too many: a row of 999 (FP32) or a copy of the first row, prepended. */
    public volatile boolean extraRows;
    /** REST: send the headers and this many bytes of the body, then stall until released (0: off). */
    public volatile int stallBodyAfterBytes;
    /** REST: answer 200 with a chunked body of this many bytes that is never valid (0: off). */
    public volatile long floodChunkedBytes;
    /** gRPC: the status code for {@link #failNext} instead of the one mapped from the HTTP status (null: mapped). */
    public volatile io.grpc.Status.@org.jspecify.annotations.Nullable Code grpcStatus;
    /** A plain KServe v2 server: no {@code model_configuration} extension, no config endpoint or ModelConfig RPC. */
    public volatile boolean plainKServe;
    private volatile CountDownLatch stall = new CountDownLatch(1);

    /** Answers the next {@code times} inference requests with {@code status} (HTTP; mapped to gRPC codes). */
    public void failNext(int times, int status, String message) {
        this.status = status;
        this.statusMessage = message;
        this.statusTimes.set(times);
    }

    /** Holds every inference request until {@link #release()} (at most 10 seconds). */
    public void holdRequests(int expectedArrivals) {
        arrived = new CountDownLatch(expectedArrivals);
        hold = new CountDownLatch(1);
    }

    /** Waits until the expected number of held requests arrived. */
    public boolean awaitArrivals(long timeout, TimeUnit unit) throws InterruptedException {
        CountDownLatch a = arrived;
        return a == null || a.await(timeout, unit);
    }

    /** Lets held requests go on. */
    public void release() {
        CountDownLatch h = hold;
        hold = null;
        if (h != null) {
            h.countDown();
        }
    }

    /** Clears every switch and releases held requests. */
    public void reset() {
        release();
        arrived = null;
        statusTimes.set(0);
        dropConnection = false;
        malformedBody = false;
        wrongShape = false;
        wrongDatatype = false;
        wrongOutputName = false;
        truncateBinary = false;
        noBinaryExtension = false;
        typedGrpcOutputs = false;
        wrongId = false;
        extraRows = false;
        stallBodyAfterBytes = 0;
        floodChunkedBytes = 0;
        grpcStatus = null;
        plainKServe = false;
        CountDownLatch s = stall;
        stall = new CountDownLatch(1);
        s.countDown();
    }

    /** Called by the REST handler mid-body: waits until {@link #reset()} (at most 10 seconds). */
    void stallBody() {
        try {
            stall.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Called by the server when an inference request arrives: counts it and waits while held. */
    void arrive() {
        CountDownLatch a = arrived;
        if (a != null) {
            a.countDown();
        }
        CountDownLatch h = hold;
        if (h != null) {
            try {
                h.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** The status to fail this request with, or 0. */
    int takeStatus() {
        while (true) {
            int left = statusTimes.get();
            if (left <= 0) {
                return 0;
            }
            if (statusTimes.compareAndSet(left, left - 1)) {
                return status;
            }
        }
    }

    String statusMessage() {
        return statusMessage;
    }
}
