package dev.nearline.core.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.nearline.api.ScoringException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;

final class JsonFixtures {
    static final ObjectMapper JSON = new ObjectMapper();

    private JsonFixtures() {
    }

    static JsonNode node(String json) {
        try {
            return JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Settings over {@code json} at path {@code path}, relative paths resolved against /base. */
    static JsonSettings settings(String path, String json) {
        return JsonSettings.of(node(json), path, Path.of("/base"));
    }

    static ScoringException invalidInput(ThrowingCallable call) {
        ScoringException e = catchThrowableOfType(ScoringException.class, call);
        assertThat(e).as("expected a ScoringException").isNotNull();
        assertThat(e.kind()).isEqualTo(ScoringException.Kind.INVALID_INPUT);
        return e;
    }
}
