package dev.nearline.durable.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.azure.messaging.servicebus.ServiceBusMessage;
import dev.nearline.api.ScoringException;
import dev.nearline.core.internal.wire.QueueReply;
import dev.nearline.durable.Reply;
import org.junit.jupiter.api.Test;

/**
 * The Service Bus message a reply becomes (sending needs a namespace, which is not reachable here): the
 * subject, content type and application properties of the shared wire format, {@link QueueReply}.
 */
class ServiceBusReplySenderTest {

    @Test
    void toMessage_errorReply_carriesCorrelationSubjectAndKind() {
        ServiceBusMessage m = ServiceBusReplySender.toMessage(new Reply("replies", "r:m-1", "m-1",
                "{\"status\":\"ERROR\"}", ScoringException.Kind.INVALID_INPUT));
        assertThat(m.getMessageId()).isEqualTo("r:m-1");
        assertThat(m.getCorrelationId()).isEqualTo("m-1");
        assertThat(m.getSubject()).isEqualTo(QueueReply.SUBJECT).isEqualTo("nearline.reply");
        assertThat(m.getContentType()).isEqualTo(QueueReply.CONTENT_TYPE).isEqualTo("application/json");
        assertThat(m.getApplicationProperties()).containsExactlyInAnyOrderEntriesOf(
                QueueReply.properties(ScoringException.Kind.INVALID_INPUT));
        assertThat(m.getApplicationProperties()).containsEntry("nearline-error-kind", "INVALID_INPUT")
                .containsEntry("nearline-status", "ERROR");
        assertThat(m.getBody().toString()).isEqualTo("{\"status\":\"ERROR\"}");
    }

    @Test
    void toMessage_okReply_hasNoKindProperty() {
        ServiceBusMessage m = ServiceBusReplySender.toMessage(new Reply("replies", "r:m-2", "m-2", "{}", null));
        assertThat(m.getApplicationProperties()).containsExactlyInAnyOrderEntriesOf(QueueReply.properties(null))
                .doesNotContainKey(QueueReply.ERROR_KIND_PROPERTY)
                .containsEntry(QueueReply.STATUS_PROPERTY, QueueReply.STATUS_OK);
    }
}
