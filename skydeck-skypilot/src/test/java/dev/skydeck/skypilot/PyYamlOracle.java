package dev.skydeck.skypilot;

import java.util.regex.Pattern;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.nodes.Tag;
import org.yaml.snakeyaml.representer.Representer;
import org.yaml.snakeyaml.resolver.Resolver;

/**
 * Reads YAML the way the SkyPilot API server does: PyYAML's {@code safe_load}, YAML 1.1. The
 * implicit resolvers are PyYAML's own ({@code yaml/resolver.py}, copied as the test's oracle,
 * independent of the code under test): {@code yes}/{@code on}/{@code off} are booleans,
 * {@code 2026-07-01} a date, {@code 010} octal, {@code 1:30} sexagesimal, {@code 1.0} a float but
 * {@code 1e3} a string, {@code =} an error under the safe loader. SnakeYAML is YAML 1.1 too but
 * resolves a few scalars differently ({@code 1e3}), hence PyYAML's table here.
 */
final class PyYamlOracle {
    private PyYamlOracle() {
    }

    /** PyYAML's {@code Resolver} table, in its order. */
    private static final class PyYamlResolver extends Resolver {
        @Override
        protected void addImplicitResolvers() {
            addImplicitResolver(Tag.BOOL, Pattern.compile("^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE"
                    + "|on|On|ON|off|Off|OFF)$"), "yYnNtTfFoO");
            addImplicitResolver(Tag.FLOAT, Pattern.compile("^(?:[-+]?(?:[0-9][0-9_]*)\\.[0-9_]*(?:[eE][-+][0-9]+)?"
                    + "|\\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?"
                    + "|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\\.[0-9_]*"
                    + "|[-+]?\\.(?:inf|Inf|INF)"
                    + "|\\.(?:nan|NaN|NAN))$"), "-+0123456789.");
            addImplicitResolver(Tag.INT, Pattern.compile("^(?:[-+]?0b[0-1_]+"
                    + "|[-+]?0[0-7_]+"
                    + "|[-+]?(?:0|[1-9][0-9_]*)"
                    + "|[-+]?0x[0-9a-fA-F_]+"
                    + "|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$"), "-+0123456789");
            addImplicitResolver(Tag.MERGE, Pattern.compile("^(?:<<)$"), "<");
            addImplicitResolver(Tag.NULL, Pattern.compile("^(?:~|null|Null|NULL|)$"), "~nN\0");
            addImplicitResolver(Tag.TIMESTAMP, Pattern.compile("^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"
                    + "|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?"
                    + "(?:[Tt]|[ \\t]+)[0-9][0-9]?"
                    + ":[0-9][0-9]:[0-9][0-9](?:\\.[0-9]*)?"
                    + "(?:[ \\t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$"), "0123456789");
            addImplicitResolver(new Tag("tag:yaml.org,2002:value"), Pattern.compile("^(?:=)$"), "=");
        }
    }

    /** Parses one document as {@code yaml.safe_load} would (maps, lists, strings, numbers, booleans, dates). */
    static Object load(String yaml) {
        LoaderOptions options = new LoaderOptions();
        return new Yaml(new SafeConstructor(options), new Representer(new DumperOptions()), new DumperOptions(),
                options, new PyYamlResolver()).load(yaml);
    }
}
