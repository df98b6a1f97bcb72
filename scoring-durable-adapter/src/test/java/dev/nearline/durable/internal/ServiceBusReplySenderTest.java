package dev.nearline.durable.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.azure.messaging.servicebus.ServiceBusMessage;
import dev.nearline.api.ScoringException;
import dev.nearline.durable.Reply;
import org.junit.jupiter.api.Test;

/** The Service Bus message a reply becomes (sending needs a namespace, which is not reachable here). */
class ServiceBusReplySenderTest {

    @Test
    void toMessage_errorReply_carriesCorrelationSubjectAndKind() {
        ServiceBusMessage m = ServiceBusReplySender.toMessage(new Reply("replies", "r:m-1", "m-1",
                "{\"status\":\"ERROR\"}", ScoringException.Kind.INVALID_INPUT));
        assertThat(m.getMessageId()).isEqualTo("r:m-1");
        assertThat(m.getCorrelationId()).isEqualTo("m-1");
        assertThat(m.getSubject()).isEqualTo(Reply.SUBJECT);
        assertThat(m.getContentType()).isEqualTo("application/json");
        assertThat(m.getApplicationProperties()).containsEntry(Reply.ERROR_KIND_PROPERTY, "INVALID_INPUT")
                .containsEntry(Reply.STATUS_PROPERTY, "ERROR");
        assertThat(m.getBody().toString()).isEqualTo("{\"status\":\"ERROR\"}");
    }

    @Test
    void toMessage_okReply_hasNoKindProperty() {
        ServiceBusMessage m = ServiceBusReplySender.toMessage(new Reply("replies", "r:m-2", "m-2", "{}", null));
        assertThat(m.getApplicationProperties()).doesNotContainKey(Reply.ERROR_KIND_PROPERTY)
                .containsEntry(Reply.STATUS_PROPERTY, "OK");
    }
}
