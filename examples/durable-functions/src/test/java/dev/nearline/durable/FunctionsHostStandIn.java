package dev.nearline.durable;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.microsoft.azure.functions.HttpResponseMessage;
import com.microsoft.durabletask.azurefunctions.DurableClientContext;
import com.microsoft.durabletask.implementation.protobuf.OrchestratorService.CreateInstanceRequest;
import com.microsoft.durabletask.implementation.protobuf.OrchestratorService.CreateInstanceResponse;
import com.microsoft.durabletask.implementation.protobuf.TaskHubSidecarServiceGrpc;
import dev.nearline.examples.functions.ScoringFunctions;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.stub.StreamObserver;
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * Plays the Functions host for the example app, in its own JVM whose environment holds the app settings
 * (so {@code NearlineFunctions.shared()} configures itself as on Azure) and whose class path is the
 * deployable folder's jar and {@code lib/}: it creates a {@link ScoringFunctions} per invocation and calls
 * the function methods with the objects the host would pass. Stand-ins, and nothing else: the HTTP request
 * ({@link FakeHttpRequest}), the execution context ({@link RecordingContext}), the Durable extension's gRPC
 * endpoint that {@code StartBatch}'s client calls ({@link #sidecar}: it records the orchestration the
 * function starts), and the durable backend that runs the orchestration ({@link DurableReplayDriver}, over
 * the durable task library's own replay entry point). Prints one JSON object per step on standard output.
 *
 * <p>Arguments: a file with the {@code POST /api/score} body, one with an invalid body, and one with the
 * {@code POST /api/batches} body (the guide's examples).
 */
public final class FunctionsHostStandIn {
    private static final ObjectMapper JSON = new ObjectMapper();

    private FunctionsHostStandIn() {
    }

    public static void main(String[] args) throws Exception {
        String record = Files.readString(Path.of(args[0]));
        String invalid = Files.readString(Path.of(args[1]));
        String batch = Files.readString(Path.of(args[2]));

        new ScoringFunctions().warmup(null, new RecordingContext("inv-warmup"));
        print("warmup", null);
        print("score", new ScoringFunctions().score(FakeHttpRequest.post("/api/score", record)
                .header("x-correlation-id", "order-77"), new RecordingContext("inv-score")));
        print("score-invalid", new ScoringFunctions().score(FakeHttpRequest.post("/api/score", invalid),
                new RecordingContext("inv-invalid")));

        List<CreateInstanceRequest> started = new CopyOnWriteArrayList<>();
        Server sidecar = sidecar(started);
        try {
            HttpResponseMessage accepted = new ScoringFunctions().startBatch(FakeHttpRequest.post("/api/batches", batch),
                    durableClient(sidecar.getPort()), new RecordingContext("inv-start"));
            print("start-batch", accepted);
        } finally {
            sidecar.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        CreateInstanceRequest instance = started.get(0);
        ObjectNode startedJson = JSON.createObjectNode().put("name", instance.getName())
                .put("instanceId", instance.getInstanceId()).put("input", instance.getInput().getValue());
        System.out.println(JSON.writeValueAsString(JSON.createObjectNode().put("step", "orchestration-started")
                .set("request", startedJson)));

        JsonNode job = JSON.readTree(instance.getInput().getValue());
        DurableReplayDriver.Run run = new DurableReplayDriver(ctx -> new ScoringFunctions().scoreBatch(ctx))
                .activity(DurableBatchScoring.ACTIVITY,
                        input -> new ScoringFunctions().scoreChunk(input, new RecordingContext("inv-chunk")))
                .run(instance.getName(), job);
        ObjectNode orchestration = JSON.createObjectNode().put("step", "orchestration")
                .put("status", run.status().name()).put("activityCalls", run.activityCalls());
        orchestration.set("output", run.output() == null ? null : JSON.readTree(run.output()));
        System.out.println(JSON.writeValueAsString(orchestration));

        String jobId = job.get("jobId").asText();
        print("batch-results", new ScoringFunctions().batchResults(FakeHttpRequest.get("/api/batches/" + jobId + "/results"),
                jobId, new RecordingContext("inv-results")));
        System.out.flush();
        System.exit(0); // the shared scorer's shutdown hook closes it
    }

    private static void print(String step, HttpResponseMessage response) throws Exception {
        ObjectNode line = JSON.createObjectNode().put("step", step);
        if (response != null) {
            line.put("status", response.getStatusCode());
            ObjectNode headers = line.putObject("headers");
            for (String h : List.of("Location", "Content-Type", "x-correlation-id")) {
                if (response.getHeader(h) != null) {
                    headers.put(h, response.getHeader(h));
                }
            }
            line.put("body", String.valueOf(response.getBody()));
        }
        System.out.println(JSON.writeValueAsString(line));
    }

    /** The Durable extension's gRPC endpoint, as far as starting an orchestration goes: it records the request. */
    private static Server sidecar(List<CreateInstanceRequest> started) throws Exception {
        return ServerBuilder.forPort(0).addService(new TaskHubSidecarServiceGrpc.TaskHubSidecarServiceImplBase() {
            @Override
            public void startInstance(CreateInstanceRequest request, StreamObserver<CreateInstanceResponse> response) {
                started.add(request);
                response.onNext(CreateInstanceResponse.newBuilder().setInstanceId(request.getInstanceId()).build());
                response.onCompleted();
            }
        }).build().start();
    }

    /** The client binding as the host fills it (the worker deserializes these fields from the binding data). */
    private static DurableClientContext durableClient(int port) throws ReflectiveOperationException {
        DurableClientContext context = new DurableClientContext();
        for (String[] field : new String[][] {{"taskHubName", "NearlineLocal"}, {"requiredQueryStringParameters", "code=key"},
                {"rpcBaseUrl", "http://127.0.0.1:" + port + "/durabletask/"}}) {
            Field f = DurableClientContext.class.getDeclaredField(field[0]);
            f.setAccessible(true);
            f.set(context, field[1]);
        }
        return context;
    }
}
