package dev.nearline.core.internal;

import static dev.nearline.core.internal.JsonFixtures.settings;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.nearline.api.spi.Settings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class JsonSettingsTest {

    @Test
    void getters_presentValues_returnThem() {
        JsonSettings s = settings("$.steps[0]", """
                {"s": "text", "i": 3, "n": 2.5, "b": true, "list": ["a", "b"], "nums": [1, 2.5],
                 "obj": {"k": "v"}, "objs": [{"x": 1}], "headers": {"a": "1"}, "p": "models/m.onnx"}
                """);

        assertThat(s.string("s")).isEqualTo("text");
        assertThat(s.string("missing", "dflt")).isEqualTo("dflt");
        assertThat(s.integer("i")).isEqualTo(3);
        assertThat(s.integer("missing", 7)).isEqualTo(7);
        assertThat(s.number("n")).isEqualTo(2.5);
        assertThat(s.number("i")).isEqualTo(3.0);
        assertThat(s.bool("b", false)).isTrue();
        assertThat(s.strings("list")).containsExactly("a", "b");
        assertThat(s.numbers("nums")).containsExactly(1.0, 2.5);
        assertThat(s.object("obj").string("k")).isEqualTo("v");
        assertThat(s.object("obj").path()).isEqualTo("$.steps[0].obj");
        assertThat(s.objects("objs").get(0).path()).isEqualTo("$.steps[0].objs[0]");
        assertThat(s.stringMap("headers")).isEqualTo(Map.of("a", "1"));
        assertThat(s.stringMap("none")).isEmpty();
        assertThat(s.optionalObject("none")).isNull();
        assertThat(s.file("p")).isEqualTo(Path.of("/base/models/m.onnx"));
        assertThat(s.keys()).containsExactly("s", "i", "n", "b", "list", "nums", "obj", "objs", "headers", "p");
    }

    @Test
    void getters_wrongTypes_failWithPathAndWhatWasFound() {
        JsonSettings s = settings("$.x", """
                {"s": 1, "i": 1.5, "big": 3000000000, "n": "2", "b": "yes", "list": ["a", 2], "nums": [1, "2"],
                 "obj": [1], "headers": {"a": 1}, "p": " "}
                """);

        assertThatThrownBy(() -> s.string("s")).hasMessage("$.x.s: expected a string, got number 1");
        assertThatThrownBy(() -> s.integer("i")).hasMessage("$.x.i: expected an integer, got number 1.5");
        assertThatThrownBy(() -> s.integer("big")).hasMessageStartingWith("$.x.big: expected an integer");
        assertThatThrownBy(() -> s.number("n")).hasMessage("$.x.n: expected a number, got string \"2\"");
        assertThatThrownBy(() -> s.bool("b", false)).hasMessage("$.x.b: expected true or false, got string \"yes\"");
        assertThatThrownBy(() -> s.strings("list")).hasMessage("$.x.list[1]: expected a string, got number 2");
        assertThatThrownBy(() -> s.numbers("nums")).hasMessage("$.x.nums[1]: expected a number, got string \"2\"");
        assertThatThrownBy(() -> s.object("obj")).hasMessage("$.x.obj: expected an object, got an array");
        assertThatThrownBy(() -> s.stringMap("headers")).hasMessage("$.x.headers.a: expected a string, got a number (hidden)");
        assertThatThrownBy(() -> s.file("p")).hasMessageStartingWith("$.x.p: expected a file path");
        assertThatThrownBy(() -> s.string("missing")).hasMessage("$.x.missing: required key is missing");
    }

    @Test
    void has_nullValue_isAbsent() {
        JsonSettings s = settings("$", "{\"a\": null}");

        assertThat(s.has("a")).isFalse();
        assertThat(s.string("a", "d")).isEqualTo("d");
        assertThatThrownBy(() -> s.string("a")).hasMessage("$.a: required key is missing");
    }

    @ParameterizedTest
    @CsvSource({
            "250us, PT0.00025S",
            "250µs, PT0.00025S",
            "5ms, PT0.005S",
            "1.5s, PT1.5S",
            "2s, PT2S",
            "1m, PT1M",
            "1h, PT1H",
            "100ns, PT0.0000001S",
            "PT0.5S, PT0.5S",
    })
    void duration_unitsAndIso_parsed(String text, String iso) {
        JsonSettings s = settings("$", "{\"d\": \"" + text + "\"}");

        assertThat(s.duration("d", null)).isEqualTo(Duration.parse(iso));
    }

    @Test
    void duration_badText_failsWithPathAndExamples() {
        JsonSettings s = settings("$", "{\"d\": \"5 parsecs\", \"n\": 5}");

        assertThatThrownBy(() -> s.duration("d", null)).hasMessageContaining("$.d: expected a duration such as")
                .hasMessageContaining("\"5 parsecs\"");
        assertThatThrownBy(() -> s.duration("n", null)).hasMessageContaining("$.n: expected a string");
        assertThat(s.duration("missing", Duration.ofSeconds(3))).isEqualTo(Duration.ofSeconds(3));
    }

    @Test
    void choice_caseInsensitive_returnsCanonicalSpelling() {
        JsonSettings s = settings("$", "{\"device\": \"CUDA\", \"bad\": \"tpu\"}");

        assertThat(s.choice("device", "cpu", "cpu", "cuda")).isEqualTo("cuda");
        assertThat(s.choice("missing", "cpu", "cpu", "cuda")).isEqualTo("cpu");
        assertThatThrownBy(() -> s.choice("bad", "cpu", "cpu", "cuda"))
                .hasMessage("$.bad: expected one of [cpu, cuda], got \"tpu\"");
    }

    @Test
    void checkAllRead_unreadKey_failsWithPathAndKnownKeys() {
        JsonSettings s = settings("$.steps[0]", "{\"type\": \"onnx\", \"path\": \"m.onnx\", \"devise\": \"cuda\"}");
        s.markRead("type");
        s.string("path");
        s.string("device", "cpu");

        assertThatThrownBy(s::checkAllRead)
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("$.steps[0].devise: unknown key; known keys here: [type, path, device]");
    }

    @Test
    void checkAllRead_unreadKeyInNestedObject_failsWithNestedPath() {
        JsonSettings s = settings("$", "{\"outer\": {\"used\": 1, \"unused\": 2}}");
        Settings outer = s.object("outer");
        outer.integer("used");

        assertThatThrownBy(s::checkAllRead).hasMessageStartingWith("$.outer.unused: unknown key");
    }

    @Test
    void checkAllRead_everyKeyRead_passes() {
        JsonSettings s = settings("$", "{\"a\": 1, \"b\": [\"x\"]}");
        s.integer("a");
        assertThat(s.strings("b", List.of())).containsExactly("x");

        s.checkAllRead();

        assertThat(s.keys()).containsExactly("a", "b");
    }

    @Test
    void error_prefixesPathAndKey() {
        assertThat(settings("$.post", "{}").error("labels", "too many").getMessage()).isEqualTo("$.post.labels: too many");
    }

    @Test
    void of_notAnObject_fails() {
        assertThatThrownBy(() -> settings("$.steps[2]", "\"x\"")).hasMessage("$.steps[2]: expected an object, got string \"x\"");
    }
}
