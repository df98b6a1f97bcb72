/**
 * The queue wire format shared by the Nearline hosts: the queue worker in {@code scoring-keda-adapter}
 * and the Service Bus trigger in {@code scoring-durable-adapter} read the same request envelope and write
 * the same reply, so either can serve the same queue. Defined once here so that the hosts cannot drift
 * apart: {@link dev.nearline.core.internal.wire.QueueRequest} (the request body),
 * {@link dev.nearline.core.internal.wire.QueueReply} (the reply body, message id, subject and application
 * properties) and {@link dev.nearline.core.internal.wire.Wire} (the error text put on replies and
 * dead-letters, and its clipping).
 *
 * <p>Not a user API: it may change in any release. It knows no broker SDK; each host maps its own
 * message types to and from it. Users find the format in {@code scoring-keda-adapter/README.md},
 * section "Messages".
 */
@NullMarked
package dev.nearline.core.internal.wire;

import org.jspecify.annotations.NullMarked;
