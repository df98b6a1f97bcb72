/**
 * A queue worker that hosts a {@link dev.nearline.api.Scorer} behind a message broker: it receives
 * request messages with peek-lock, scores their records, sends each reply to the request's reply
 * address, and only then settles the request. KEDA scales a pool of such workers on queue length.
 *
 * <p>Entry points: {@link dev.nearline.keda.WorkerMain} (the runnable worker, configured by
 * environment variables described in {@link dev.nearline.keda.WorkerConfig}),
 * {@link dev.nearline.keda.QueueWorker} (to embed the worker), and the {@link dev.nearline.keda.Transport}
 * SPI with its Azure Service Bus implementation {@link dev.nearline.keda.ServiceBusTransport}.
 */
@NullMarked
package dev.nearline.keda;

import org.jspecify.annotations.NullMarked;
