package dev.skydeck.skypilot.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import dev.skydeck.CommandLine;
import dev.skydeck.SkyDeckException;
import dev.skydeck.spi.LaunchRequest;
import java.io.IOException;
import java.util.Map;

/**
 * The task YAML of a managed-job launch (SKYPILOT.md §6): a template (built in, the file named by
 * {@code SKYDECK_TASK_TEMPLATE}, or the experiment's own) plus the experiment: {@code name},
 * {@code num_nodes}, {@code resources}, {@code envs}, a git {@code workdir} when a repository is
 * configured, and {@code run} — the command line quoted for a POSIX shell.
 */
public final class TaskYaml {
    /** The built-in template: managed jobs recover from preemption by moving on to the next region. */
    public static final String DEFAULT_TEMPLATE = """
            resources:
              job_recovery:
                strategy: EAGER_NEXT_REGION
            """;

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory()
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
            .enable(YAMLGenerator.Feature.ALWAYS_QUOTE_NUMBERS_AS_STRINGS));

    private TaskYaml() {
    }

    /**
     * Renders the task.
     *
     * @param template the template's YAML (a mapping), or {@code null} for the built-in one
     * @param gitRepo  a git URL for the workdir, or {@code null}
     */
    public static String render(LaunchRequest r, String template, String gitRepo) {
        ObjectNode task;
        try {
            JsonNode parsed = YAML.readTree(template == null ? DEFAULT_TEMPLATE : template);
            if (parsed == null || parsed.isNull() || parsed.isMissingNode()) {
                task = YAML.createObjectNode();
            } else if (parsed.isObject()) {
                task = (ObjectNode) parsed;
            } else {
                throw new SkyDeckException.InvalidInput("the task template of " + r.experimentName()
                        + " must be a YAML mapping (name, resources, setup, …)");
            }
        } catch (IOException e) {
            throw new SkyDeckException.InvalidInput("the task template of " + r.experimentName() + " is not valid YAML: "
                    + e.getMessage());
        }
        task.put("name", JobNames.of(r.experimentName()));
        task.put("num_nodes", r.nodes());
        ObjectNode resources = task.has("resources") && task.get("resources").isObject()
                ? (ObjectNode) task.get("resources") : task.putObject("resources");
        var res = r.resources();
        if (res.cloud() != null) {
            String infra = res.region() == null ? res.cloud() : res.cloud() + "/" + res.region();
            resources.put("infra", infra.toLowerCase(java.util.Locale.ROOT).startsWith("kubernetes")
                    ? "k8s" + infra.substring("kubernetes".length()) : infra);
        }
        if (res.instanceType() != null) {
            resources.put("instance_type", res.instanceType());
        }
        if (r.gpus() > 0) {
            String model = res.accelerator() == null ? null : res.accelerator().split(":")[0];
            if (model != null) {
                resources.put("accelerators", model + ":" + r.gpus());
            } else if (res.instanceType() == null) {
                throw dev.skydeck.spi.BackendException.permanent("experiment " + r.experimentName() + " asks for "
                        + r.gpus() + " GPUs per node but names no GPU model: set its accelerator (e.g. H100) or an"
                        + " instance type with GPUs");
            }
        }
        if (res.spot()) {
            resources.put("use_spot", true);
        }
        ObjectNode envs = task.has("envs") && task.get("envs").isObject()
                ? (ObjectNode) task.get("envs") : task.putObject("envs");
        for (Map.Entry<String, String> e : r.env().entrySet()) {
            envs.put(e.getKey(), e.getValue());
        }
        if (gitRepo != null) {
            ObjectNode workdir = task.putObject("workdir");
            workdir.put("url", gitRepo);
            if (r.gitRef() != null) {
                workdir.put("ref", r.gitRef());
            }
        }
        task.put("run", CommandLine.render(r.command()));
        try {
            return YAML.writeValueAsString(task);
        } catch (IOException e) {
            throw new IllegalStateException("cannot write the task YAML", e);
        }
    }
}
