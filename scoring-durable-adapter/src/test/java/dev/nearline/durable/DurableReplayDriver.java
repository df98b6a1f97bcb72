package dev.nearline.durable;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.StringValue;
import com.google.protobuf.Timestamp;
import com.microsoft.durabletask.JacksonDataConverter;
import com.microsoft.durabletask.OrchestrationRunner;
import com.microsoft.durabletask.OrchestratorFunction;
import com.microsoft.durabletask.implementation.protobuf.OrchestratorService.CompleteOrchestrationAction;
import com.microsoft.durabletask.implementation.protobuf.OrchestratorService.CreateTimerAction;
import com.microsoft.durabletask.implementation.protobuf.OrchestratorService.ExecutionStartedEvent;
import com.microsoft.durabletask.implementation.protobuf.OrchestratorService.HistoryEvent;
import com.microsoft.durabletask.implementation.protobuf.OrchestratorService.OrchestrationInstance;
import com.microsoft.durabletask.implementation.protobuf.OrchestratorService.OrchestrationStatus;
import com.microsoft.durabletask.implementation.protobuf.OrchestratorService.OrchestratorAction;
import com.microsoft.durabletask.implementation.protobuf.OrchestratorService.OrchestratorRequest;
import com.microsoft.durabletask.implementation.protobuf.OrchestratorService.OrchestratorResponse;
import com.microsoft.durabletask.implementation.protobuf.OrchestratorService.OrchestratorStartedEvent;
import com.microsoft.durabletask.implementation.protobuf.OrchestratorService.ScheduleTaskAction;
import com.microsoft.durabletask.implementation.protobuf.OrchestratorService.TaskCompletedEvent;
import com.microsoft.durabletask.implementation.protobuf.OrchestratorService.TaskFailedEvent;
import com.microsoft.durabletask.implementation.protobuf.OrchestratorService.TaskFailureDetails;
import com.microsoft.durabletask.implementation.protobuf.OrchestratorService.TaskScheduledEvent;
import com.microsoft.durabletask.implementation.protobuf.OrchestratorService.TimerCreatedEvent;
import com.microsoft.durabletask.implementation.protobuf.OrchestratorService.TimerFiredEvent;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * Runs an orchestrator to completion in-process through the durable task library's own replay entry
 * point, {@link OrchestrationRunner#loadAndRun(byte[], OrchestratorFunction)}: the call the Durable
 * Functions middleware makes in the Functions worker. The driver plays the host's part: it keeps the
 * protobuf history, runs the scheduled activities (calling the function bodies directly), fires timers
 * on a fake clock and feeds the results back as new events, episode after episode. The orchestration
 * engine, its retry logic and its JSON converter are the real ones.
 *
 * <p>Determinism is checked twice: every episode is run twice on the same history and must answer with
 * byte-identical actions, and after completion the whole history is replayed once more and must lead to
 * the same completion without scheduling anything new.
 *
 * <p>Activities see what the host passes a Java activity whose parameter is a {@code String}: the
 * input's JSON text. Their {@code String} result is stored the way the host stores it, as a JSON
 * string. An activity that throws becomes a failed task carrying the exception's type and message, or,
 * after {@link #hostFailureText(String)}, the host's own text: the Functions host reports a failed
 * function in its own words, so an orchestrator must not depend on what a failure says.
 */
final class DurableReplayDriver {
    private static final JacksonDataConverter JSON = new JacksonDataConverter();
    private static final String INSTANCE = "nl-test-instance";

    private final OrchestratorFunction<?> orchestrator;
    private final Map<String, Function<String, String>> activities = new HashMap<>();
    private @Nullable String hostFailureText;

    DurableReplayDriver(OrchestratorFunction<?> orchestrator) {
        this.orchestrator = orchestrator;
    }

    DurableReplayDriver activity(String name, Function<String, String> body) {
        activities.put(name, body);
        return this;
    }

    /** Reports every activity failure with {@code text} and an unknown error type, whatever was thrown. */
    DurableReplayDriver hostFailureText(String text) {
        this.hostFailureText = text;
        return this;
    }

    /** What a run did. */
    record Run(OrchestrationStatus status, @Nullable String output, String failure, int episodes, int activityCalls,
               Map<String, Integer> callsPerInput, int maxScheduledPerEpisode, List<Duration> timers,
               List<String> customStatuses) {

        <T> T output(Class<T> type) {
            return JSON.deserialize(output, type);
        }
    }

    Run run(String name, Object input) {
        Instant clock = Instant.parse("2026-01-01T00:00:00Z");
        List<HistoryEvent> past = new ArrayList<>();
        List<HistoryEvent> fresh = new ArrayList<>();
        fresh.add(started(clock));
        fresh.add(HistoryEvent.newBuilder().setEventId(-1).setTimestamp(ts(clock))
                .setExecutionStarted(ExecutionStartedEvent.newBuilder().setName(name)
                        .setInput(StringValue.of(JSON.serialize(input)))
                        .setOrchestrationInstance(OrchestrationInstance.newBuilder().setInstanceId(INSTANCE)
                                .setExecutionId(StringValue.of("e1"))))
                .build());
        int episodes = 0;
        int calls = 0;
        int maxScheduled = 0;
        Map<String, Integer> callsPerInput = new HashMap<>();
        List<Duration> timers = new ArrayList<>();
        List<String> statuses = new ArrayList<>();
        while (episodes++ < 100_000) {
            OrchestratorResponse response = runTwice(past, fresh);
            if (response.hasCustomStatus()) {
                String status = response.getCustomStatus().getValue();
                if (statuses.isEmpty() || !statuses.get(statuses.size() - 1).equals(status)) {
                    statuses.add(status);
                }
            }
            past.addAll(fresh);
            fresh = new ArrayList<>();
            Instant next = clock;
            List<HistoryEvent> results = new ArrayList<>();
            int scheduled = 0;
            for (OrchestratorAction a : response.getActionsList()) {
                switch (a.getOrchestratorActionTypeCase()) {
                    case SCHEDULETASK -> {
                        scheduled++;
                        calls++;
                        ScheduleTaskAction st = a.getScheduleTask();
                        callsPerInput.merge(st.getName() + " " + st.getInput().getValue(), 1, Integer::sum);
                        past.add(HistoryEvent.newBuilder().setEventId(a.getId()).setTimestamp(ts(clock))
                                .setTaskScheduled(TaskScheduledEvent.newBuilder().setName(st.getName()).setInput(st.getInput()))
                                .build());
                        results.add(runActivity(a.getId(), st, clock));
                    }
                    case CREATETIMER -> {
                        CreateTimerAction t = a.getCreateTimer();
                        Instant fireAt = Instant.ofEpochSecond(t.getFireAt().getSeconds(), t.getFireAt().getNanos());
                        timers.add(Duration.between(clock, fireAt));
                        past.add(HistoryEvent.newBuilder().setEventId(a.getId()).setTimestamp(ts(clock))
                                .setTimerCreated(TimerCreatedEvent.newBuilder().setFireAt(t.getFireAt())).build());
                        results.add(HistoryEvent.newBuilder().setEventId(-1).setTimestamp(t.getFireAt())
                                .setTimerFired(TimerFiredEvent.newBuilder().setTimerId(a.getId()).setFireAt(t.getFireAt()))
                                .build());
                        if (fireAt.isAfter(next)) {
                            next = fireAt;
                        }
                    }
                    case COMPLETEORCHESTRATION -> {
                        CompleteOrchestrationAction c = a.getCompleteOrchestration();
                        checkFullReplay(past, c);
                        return new Run(c.getOrchestrationStatus(), c.hasResult() ? c.getResult().getValue() : null,
                                c.getFailureDetails().getErrorMessage(), episodes, calls, callsPerInput, maxScheduled, timers,
                                statuses);
                    }
                    default -> throw new AssertionError("unsupported action " + a.getOrchestratorActionTypeCase());
                }
            }
            maxScheduled = Math.max(maxScheduled, scheduled);
            if (results.isEmpty()) {
                throw new AssertionError("orchestration is waiting for something the driver does not provide");
            }
            clock = next.plusMillis(1);
            fresh.add(started(clock));
            fresh.addAll(results);
        }
        throw new AssertionError("orchestration did not complete");
    }

    private HistoryEvent runActivity(int taskId, ScheduleTaskAction st, Instant clock) {
        Function<String, String> body = activities.get(st.getName());
        if (body == null) {
            throw new AssertionError("no activity named " + st.getName());
        }
        try {
            String out = body.apply(st.getInput().getValue());
            return HistoryEvent.newBuilder().setEventId(-1).setTimestamp(ts(clock))
                    .setTaskCompleted(TaskCompletedEvent.newBuilder().setTaskScheduledId(taskId)
                            .setResult(StringValue.of(JSON.serialize(out))))
                    .build();
        } catch (RuntimeException e) {
            return HistoryEvent.newBuilder().setEventId(-1).setTimestamp(ts(clock))
                    .setTaskFailed(TaskFailedEvent.newBuilder().setTaskScheduledId(taskId)
                            .setFailureDetails(TaskFailureDetails.newBuilder()
                                    .setErrorType(hostFailureText == null ? e.getClass().getName() : "(unknown)")
                                    .setErrorMessage(hostFailureText == null ? String.valueOf(e.getMessage()) : hostFailureText)))
                    .build();
        }
    }

    /** Runs one episode twice on the same history; both runs must decide the same. */
    private OrchestratorResponse runTwice(List<HistoryEvent> past, List<HistoryEvent> fresh) {
        byte[] request = OrchestratorRequest.newBuilder().setInstanceId(INSTANCE).addAllPastEvents(past)
                .addAllNewEvents(fresh).build().toByteArray();
        byte[] first = OrchestrationRunner.loadAndRun(request, orchestrator);
        byte[] second = OrchestrationRunner.loadAndRun(request, orchestrator);
        OrchestratorResponse a = parse(first);
        OrchestratorResponse b = parse(second);
        assertThat(b.getActionsList()).as("actions of a replayed episode").isEqualTo(a.getActionsList());
        assertThat(b.getCustomStatus()).as("custom status of a replayed episode").isEqualTo(a.getCustomStatus());
        return a;
    }

    /** Replays the complete history: the orchestrator must complete the same way and schedule nothing new. */
    private void checkFullReplay(List<HistoryEvent> past, CompleteOrchestrationAction completion) {
        List<HistoryEvent> history = new ArrayList<>(past);
        OrchestratorResponse replay = parse(OrchestrationRunner.loadAndRun(OrchestratorRequest.newBuilder()
                .setInstanceId(INSTANCE).addAllPastEvents(history).build().toByteArray(), orchestrator));
        List<OrchestratorAction> actions = replay.getActionsList();
        assertThat(actions).as("actions when replaying the whole history").hasSize(1);
        assertThat(actions.get(0).getCompleteOrchestration()).isEqualTo(completion);
    }

    private static OrchestratorResponse parse(byte[] bytes) {
        try {
            return OrchestratorResponse.parseFrom(bytes);
        } catch (InvalidProtocolBufferException e) {
            throw new AssertionError(e);
        }
    }

    private static HistoryEvent started(Instant at) {
        return HistoryEvent.newBuilder().setEventId(-1).setTimestamp(ts(at))
                .setOrchestratorStarted(OrchestratorStartedEvent.getDefaultInstance()).build();
    }

    private static Timestamp ts(Instant t) {
        return Timestamp.newBuilder().setSeconds(t.getEpochSecond()).setNanos(t.getNano()).build();
    }
}
