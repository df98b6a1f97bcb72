/**
 * Hosts a Nearline {@link dev.nearline.api.Scorer} in an Azure Functions app: an HTTP function for one
 * record ({@link dev.nearline.durable.HttpScoring}), a Durable Functions batch job
 * ({@link dev.nearline.durable.DurableBatchScoring}) and a Service Bus trigger
 * ({@link dev.nearline.durable.ServiceBusScoring}), all sharing one scorer per worker process through
 * {@link dev.nearline.durable.NearlineFunctions}.
 *
 * <p>This library holds no {@code @FunctionName} methods on purpose: the Azure Functions Maven plugin
 * scans dependency jars too, so any function declared here would be registered in every app that
 * depends on it. An app declares its functions as one-line methods that delegate here (see
 * {@code examples/durable-functions}).
 */
@NullMarked
package dev.nearline.durable;

import org.jspecify.annotations.NullMarked;
