package dev.nearline.keda;

import static org.assertj.core.api.Assertions.assertThat;

import com.azure.messaging.servicebus.ServiceBusReceivedMessage;
import dev.nearline.keda.standin.ServiceBusStandIn;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link ServiceBusTransport} through the real Service Bus SDK against the embedded-Artemis stand-in:
 * receive, reply, complete, abandon, dead-letter, probe, close.
 */
class ServiceBusTransportTest {
    private static ServiceBusStandIn standIn;

    @BeforeAll
    static void startBroker() throws Exception {
        standIn = ServiceBusStandIn.builder().queue("t-requests", 3).queue("t-replies", 3).start();
    }

    @AfterAll
    static void stopBroker() throws Exception {
        standIn.close();
    }

    private ServiceBusTransport transport() {
        return ServiceBusTransport.builder().connectionString(standIn.connectionString()).queue("t-requests")
                .replyTimeToLive(Duration.ofMinutes(5)).build();
    }

    private static List<InboundMessage> receiveAll(Transport t, int n) throws InterruptedException {
        List<InboundMessage> got = new ArrayList<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (got.size() < n && System.nanoTime() < deadline) {
            got.addAll(t.receive(n - got.size(), Duration.ofMillis(500)));
        }
        return got;
    }

    @Test
    void receive_settleEachWay_completesAbandonsAndDeadLetters() throws Exception {
        try (Requester requester = new Requester(standIn.connectionString(), "t-requests", "t-replies");
             ServiceBusTransport transport = transport()) {
            requester.send(IntStream.range(0, 4).mapToObj(i -> requester.request("s" + i, "{\"i\":" + i + "}")).toList());

            List<InboundMessage> got = receiveAll(transport, 4);

            assertThat(got).extracting(InboundMessage::messageId).containsExactlyInAnyOrder("s0", "s1", "s2", "s3");
            assertThat(got).extracting(InboundMessage::replyTo).containsOnly("t-replies");
            assertThat(got.stream().map(m -> ((ServiceBusReceivedMessage) m.handle()).getLockToken()).distinct())
                    .as("unique lock tokens").hasSize(4);
            assertThat(transport.isConnected()).as("no probe has succeeded yet").isFalse();
            assertThat(transport.probe()).succeedsWithin(Duration.ofSeconds(20));
            assertThat(transport.isConnected()).isTrue();
            Map<String, InboundMessage> byId = got.stream().collect(Collectors.toMap(InboundMessage::messageId, m -> m));
            transport.reply(new Reply("t-replies", null, "s0", "r:s0", "{\"ok\":1}".getBytes(StandardCharsets.UTF_8),
                    Map.of("nearline-status", "OK"))).get();
            transport.complete(byId.get("s0")).get();
            transport.complete(byId.get("s1")).get();
            transport.deadLetter(byId.get("s2"), "INVALID_INPUT", "field 'x' missing").get();
            transport.abandon(byId.get("s3")).get();

            List<InboundMessage> again = receiveAll(transport, 1);
            assertThat(again).extracting(InboundMessage::messageId).containsExactly("s3");
            assertThat(again.get(0).deliveryCount()).as("stand-in counts from 0").isEqualTo(1);
            transport.complete(again.get(0)).get();

            List<ServiceBusReceivedMessage> replies = requester.replies(1, Duration.ofSeconds(10));
            assertThat(replies).hasSize(1);
            assertThat(replies.get(0).getCorrelationId()).isEqualTo("s0");
            assertThat(replies.get(0).getMessageId()).isEqualTo("r:s0");
            assertThat(replies.get(0).getSubject()).isEqualTo(Reply.SUBJECT);
            assertThat(replies.get(0).getApplicationProperties()).containsEntry("nearline-status", "OK");
            assertThat(requester.deadLetters(1, Duration.ofSeconds(10))).extracting(ServiceBusReceivedMessage::getMessageId)
                    .containsExactly("s2");
        }
    }

    @Test
    void receive_prefetchZero_locksNoMoreThanAskedFor() throws Exception {
        try (Requester requester = new Requester(standIn.connectionString(), "t-requests", "t-replies");
             ServiceBusTransport transport = transport()) {
            requester.send(IntStream.range(0, 10).mapToObj(i -> requester.request("p" + i, "{}")).toList());

            List<InboundMessage> got = receiveAll(transport, 3);

            assertThat(got).hasSize(3);
            assertThat(standIn.deliveringCount("t-requests")).as("locked by the client").isEqualTo(3);
            assertThat(standIn.messageCount("t-requests")).as("waiting, including locked").isEqualTo(10);
            for (InboundMessage m : got) {
                transport.complete(m).get();
            }
            List<InboundMessage> rest = receiveAll(transport, 7);
            for (InboundMessage m : rest) {
                transport.complete(m).get();
            }
            assertThat(rest).hasSize(7);
        }
    }

    @Test
    void close_withUnclaimedMessages_releasesThemForRedelivery() throws Exception {
        try (Requester requester = new Requester(standIn.connectionString(), "t-requests", "t-replies")) {
            ServiceBusTransport first = transport();
            requester.send(requester.request("c0", "{}"));
            List<InboundMessage> got = receiveAll(first, 1);
            assertThat(got).hasSize(1);
            first.close(); // unsettled: the broker hands it to the next consumer
            assertThat(first.isConnected()).isFalse();
            assertThat(first.probe()).failsWithin(Duration.ofSeconds(1)).withThrowableThat()
                    .withMessageContaining("closed");

            try (ServiceBusTransport second = transport()) {
                List<InboundMessage> again = receiveAll(second, 1);
                assertThat(again).extracting(InboundMessage::messageId).containsExactly("c0");
                second.complete(again.get(0)).get();
            }
        }
    }
}
