package dev.skydeck.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** A command built alone (the start-up shortcut) parses, helps and fails exactly as inside the whole tree. */
class MainTest {
    static List<org.junit.jupiter.params.provider.Arguments> commandLines() {
        return List.of(
                org.junit.jupiter.params.provider.Arguments.of((Object) new String[] {"serve", "--help"}),
                org.junit.jupiter.params.provider.Arguments.of((Object) new String[] {"serve", "--no-such-option"}),
                org.junit.jupiter.params.provider.Arguments.of((Object) new String[] {"serve", "--port"}),
                org.junit.jupiter.params.provider.Arguments.of((Object) new String[] {"demo", "--experiments", "many"}),
                org.junit.jupiter.params.provider.Arguments.of((Object) new String[] {"exp", "--help"}),
                org.junit.jupiter.params.provider.Arguments.of((Object) new String[] {"exp", "frobnicate"}),
                org.junit.jupiter.params.provider.Arguments.of((Object) new String[] {"exp", "list", "--no-such-option"}),
                org.junit.jupiter.params.provider.Arguments.of((Object) new String[] {"token", "--help"}),
                org.junit.jupiter.params.provider.Arguments.of((Object) new String[] {"import", "--help"}),
                org.junit.jupiter.params.provider.Arguments.of((Object) new String[] {"start", "-h"}),
                org.junit.jupiter.params.provider.Arguments.of((Object) new String[] {"serve", "extra"}));
    }

    @ParameterizedTest
    @MethodSource("commandLines")
    void aCommandAloneAnswersAsTheWholeTreeDoes(String[] args) {
        Outcome alone = run(args, false);
        Outcome tree = run(args, true);

        assertThat(alone).isEqualTo(tree);
        assertThat(alone.out() + alone.err()).as("it said something").isNotBlank();
    }

    private record Outcome(int status, String out, String err) {}

    private static Outcome run(String[] args, boolean wholeTree) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int status = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true), wholeTree);
        return new Outcome(status, out.toString(), err.toString());
    }
}
