package dev.nearline.durable;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** Records the replies instead of sending them to Service Bus. */
final class RecordingReplySender implements ReplySender {
    final List<Reply> sent = new CopyOnWriteArrayList<>();
    volatile boolean closed;

    @Override
    public void send(Reply reply) {
        sent.add(reply);
    }

    @Override
    public void close() {
        closed = true;
    }
}
