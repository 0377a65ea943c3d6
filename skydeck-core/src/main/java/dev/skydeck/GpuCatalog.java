package dev.skydeck;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * What GPUs an instance type has, and the common choices per cloud for the create form (SPEC
 * §7). Both are data, not code: {@code dev/skydeck/gpu-catalog.tsv} maps instance-type patterns
 * to a GPU model and count, {@code dev/skydeck/providers.properties} lists each cloud's common
 * regions, GPU instance types and GPU models. They are read once, on first use.
 *
 * <pre>{@code
 * GpuCatalog.detect("p5.48xlarge");      // Optional[GpuType[model=H100, count=8]]
 * GpuCatalog.detect("a2-highgpu-4g");    // Optional[GpuType[model=A100, count=4]]
 * GpuCatalog.detect("m5.large");         // Optional.empty
 * }</pre>
 */
public final class GpuCatalog {
    private static final String CATALOG = "gpu-catalog.tsv";
    private static final String PROVIDERS = "providers.properties";

    private GpuCatalog() {
    }

    /**
     * The common choices of one cloud for the create form.
     *
     * @param cloud         the cloud's id as SkyPilot spells it ({@code aws}, {@code gcp}, {@code azure},
     *                      {@code kubernetes})
     * @param displayName   how to show it ({@code Google Cloud})
     * @param regions       common regions, most used first (empty where the cloud has none)
     * @param instanceTypes common GPU instance types (empty where the cloud has none)
     * @param accelerators  common GPU models
     */
    public record Provider(String cloud, String displayName, List<String> regions, List<String> instanceTypes,
                           List<String> accelerators) {
        /** Copies the lists. */
        public Provider {
            Objects.requireNonNull(cloud, "cloud");
            Objects.requireNonNull(displayName, "displayName");
            regions = List.copyOf(regions);
            instanceTypes = List.copyOf(instanceTypes);
            accelerators = List.copyOf(accelerators);
        }
    }

    /** One row of the catalog. */
    private record Rule(String cloud, Pattern pattern, String model, int count) {
        Optional<GpuType> match(String instanceType) {
            Matcher m = pattern.matcher(instanceType);
            if (!m.matches()) {
                return Optional.empty();
            }
            return Optional.of(new GpuType(model, count > 0 ? count : Integer.parseInt(m.group(1))));
        }
    }

    /** Loaded on first use of the class. */
    private static final class Data {
        static final List<Rule> RULES = loadRules();
        static final List<Provider> PROVIDERS = loadProviders();
    }

    /**
     * The GPUs of an instance type, such as {@code g5.12xlarge} (A10G × 4), {@code a3-highgpu-8g}
     * (H100 × 8) or {@code Standard_NV36ads_A10_v5} (A10 × 1). Case-insensitive; surrounding
     * blanks ignored.
     *
     * @return the model and count, or empty for {@code null}, CPU-only and unknown types
     */
    public static Optional<GpuType> detect(String instanceType) {
        if (instanceType == null || instanceType.isBlank()) {
            return Optional.empty();
        }
        String type = instanceType.strip();
        for (Rule rule : Data.RULES) {
            Optional<GpuType> gpu = rule.match(type);
            if (gpu.isPresent()) {
                return gpu;
            }
        }
        return Optional.empty();
    }

    /**
     * The cloud an instance type belongs to ({@code aws}, {@code gcp}, {@code azure}), when the
     * catalog knows the type.
     */
    public static Optional<String> cloud(String instanceType) {
        if (instanceType == null || instanceType.isBlank()) {
            return Optional.empty();
        }
        String type = instanceType.strip();
        return Data.RULES.stream().filter(r -> r.match(type).isPresent()).map(Rule::cloud).findFirst();
    }

    /**
     * The accelerator to request for {@code resources}: the one given, else the one detected from
     * the instance type (as {@code model:count}), else empty.
     */
    public static Optional<String> accelerator(Resources resources) {
        if (resources.accelerator() != null) {
            return Optional.of(resources.accelerator());
        }
        return detect(resources.instanceType()).map(GpuType::accelerator);
    }

    /** Every cloud's common choices, in the order the create form offers them. */
    public static List<Provider> providers() {
        return Data.PROVIDERS;
    }

    /** One cloud's common choices, by id (case-insensitive). */
    public static Optional<Provider> provider(String cloud) {
        return Data.PROVIDERS.stream().filter(p -> p.cloud().equalsIgnoreCase(cloud)).findFirst();
    }

    private static List<Rule> loadRules() {
        List<Rule> rules = new ArrayList<>();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(open(CATALOG), StandardCharsets.UTF_8))) {
            int lineNumber = 0;
            for (String line; (line = in.readLine()) != null; ) {
                lineNumber++;
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                rules.add(rule(line, lineNumber));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + CATALOG, e);
        }
        return List.copyOf(rules);
    }

    private static Rule rule(String line, int lineNumber) {
        String[] cols = line.split("\t");
        String where = CATALOG + " line " + lineNumber + ": ";
        if (cols.length != 4) {
            throw new IllegalStateException(where + "expected 4 tab-separated columns, found " + cols.length);
        }
        Pattern pattern;
        try {
            pattern = Pattern.compile(cols[1], Pattern.CASE_INSENSITIVE);
        } catch (PatternSyntaxException e) {
            throw new IllegalStateException(where + "bad pattern " + cols[1], e);
        }
        int count;
        if (cols[3].equals("$1")) {
            if (pattern.matcher("").groupCount() < 1) {
                throw new IllegalStateException(where + "count $1 needs a group in the pattern");
            }
            count = 0;
        } else {
            try {
                count = Integer.parseInt(cols[3]);
            } catch (NumberFormatException e) {
                throw new IllegalStateException(where + "count must be a number or $1, not " + cols[3], e);
            }
            if (count < 1) {
                throw new IllegalStateException(where + "count must be at least 1");
            }
        }
        return new Rule(cols[0].toLowerCase(Locale.ROOT), pattern, cols[2], count);
    }

    private static List<Provider> loadProviders() {
        Properties props = new Properties();
        try (InputStream in = open(PROVIDERS)) {
            props.load(new InputStreamReader(in, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + PROVIDERS, e);
        }
        List<Provider> out = new ArrayList<>();
        for (String cloud : list(props, "clouds")) {
            out.add(new Provider(cloud, props.getProperty(cloud + ".name", cloud), list(props, cloud + ".regions"),
                    list(props, cloud + ".instance_types"), list(props, cloud + ".accelerators")));
        }
        return List.copyOf(out);
    }

    private static List<String> list(Properties props, String key) {
        String value = props.getProperty(key, "");
        return Arrays.stream(value.split(",")).map(String::strip).filter(s -> !s.isEmpty()).toList();
    }

    private static InputStream open(String resource) {
        InputStream in = GpuCatalog.class.getResourceAsStream(resource);
        if (in == null) {
            throw new IllegalStateException("resource dev/skydeck/" + resource + " is missing from the classpath");
        }
        return in;
    }
}
