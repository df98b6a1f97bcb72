package dev.nearline.examples.keda;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every manifest in {@code k8s/} (plain, connection-string, GPU and Triton variants) checked against the
 * schema of the API version it names: Kubernetes' own API (npm {@code kubernetes-models} 5.1.0, generated
 * from Kubernetes' OpenAPI document; it has the 1.34 types) and KEDA's CRDs (npm
 * {@code @kubernetes-models/keda} 2.0.0, generated from KEDA's v2 API types), installed by the build from
 * {@code src/test/schema/package-lock.json}. {@code validate.mjs} runs each object through the package's
 * JSON-schema validator and, since those accept unknown fields and the API server (strict field validation)
 * does not, also checks every field name against the model's TypeScript interface.
 */
class ManifestSchemaTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path VALIDATOR = GuideLayout.MODULE.resolve("target/schema/validate.mjs");

    @TempDir
    Path dir;

    private static JsonNode validate(List<Path> files) throws IOException, InterruptedException {
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isDirectory(VALIDATOR.resolveSibling("node_modules")),
                "Node.js/npm not found, so the Kubernetes and KEDA schema packages were not installed (target/schema); "
                        + "skipping the manifest schema check (.ci/run runs it)");
        List<String> cmd = new ArrayList<>(List.of("node", VALIDATOR.toString()));
        files.forEach(f -> cmd.add(f.toString()));
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        byte[] out = p.getInputStream().readAllBytes();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("validator finished").isTrue();
        assertThat(p.exitValue()).as("validator exit code").isZero();
        return JSON.readTree(new String(out, StandardCharsets.UTF_8)).get("documents");
    }

    @Test
    void manifests_allVariants_validateAgainstTheKubernetesAndKedaSchemas() throws Exception {
        List<Path> files;
        try (Stream<Path> s = Files.list(GuideLayout.K8S)) {
            files = s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
        }
        assertThat(files).extracting(p -> p.getFileName().toString())
                .contains("deployment.yaml", "scaledobject.yaml", "gpu.yaml", "triton.yaml", "connection-string.yaml");
        JsonNode documents = validate(files);
        int expected = 0;
        for (Path f : files) {
            expected += GuideLayout.documents(f.getFileName().toString()).size();
        }
        assertThat(documents).as("every object of every file was checked").hasSize(expected);
        List<String> kinds = new ArrayList<>();
        for (JsonNode d : documents) {
            String what = d.get("file").asText().replaceAll(".*/", "") + " #" + d.get("index") + " " + d.path("kind").asText();
            assertThat(d.get("errors")).as(what + ": " + d.get("errors")).isEmpty();
            kinds.add(d.get("apiVersion").asText() + " " + d.get("kind").asText());
        }
        assertThat(kinds).contains("apps/v1 Deployment", "v1 ConfigMap", "v1 Secret", "v1 ServiceAccount",
                "keda.sh/v1alpha1 ScaledObject", "keda.sh/v1alpha1 TriggerAuthentication");
    }

    @Test
    void validator_manifestWithMistakes_reportsEachAgainstItsSchema() throws Exception {
        Path bad = dir.resolve("bad.yaml");
        Files.writeString(bad, """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: bad}
                spec:
                  selector: {matchLabels: {app: bad}}
                  template:
                    metadata: {labels: {app: bad}}
                    spec:
                      terminationGracePeriodSecond: 30
                      containers:
                        - name: worker
                          image: nearline-keda-worker:0.1.0
                          securityContext: {runAsNonRoot: "yes", readOnlyRootFilesystm: true}
                ---
                apiVersion: keda.sh/v1alpha1
                kind: ScaledObject
                metadata: {name: bad}
                spec:
                  pollingIntervall: 10
                  minReplicaCount: "0"
                  advanced: {horizontalPodAutoscalerConfig: {behavior: {scaleDown: {stabilizationWindowSecond: 120}}}}
                  triggers:
                    - type: azure-servicebus
                      metadata: {queueName: scoring-requests, messageCount: 64}
                ---
                apiVersion: keda.sh/v1alpha1
                kind: ScaledJobs
                metadata: {name: bad}
                """);
        JsonNode documents = validate(List.of(bad));
        assertThat(documents).hasSize(3);
        assertThat(documents.get(0).get("errors").toString())
                .contains("unknown field .spec.template.spec.terminationGracePeriodSecond")
                .contains("unknown field .spec.template.spec.containers[0].securityContext.readOnlyRootFilesystm")
                .contains("runAsNonRoot must be boolean");
        assertThat(documents.get(1).get("errors").toString())
                .contains("unknown field .spec.pollingIntervall")
                .contains("unknown field .spec.advanced.horizontalPodAutoscalerConfig.behavior.scaleDown.stabilizationWindowSecond")
                .contains("must have required property scaleTargetRef")
                .contains("minReplicaCount must be integer")
                .contains("messageCount must be string");
        assertThat(documents.get(2).get("errors").toString()).contains("no schema for keda.sh/v1alpha1 ScaledJobs");
    }
}
