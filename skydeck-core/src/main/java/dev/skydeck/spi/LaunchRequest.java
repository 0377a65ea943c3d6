package dev.skydeck.spi;

import dev.skydeck.Resources;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Everything a backend needs to launch one job of an experiment.
 *
 * @param experimentName the experiment's name (the backend's job name)
 * @param launchId       SkyDeck's job id, to be passed to the job as {@code SKYDECK_LAUNCH_ID} so
 *                       that the job can be found again after a crash
 * @param attempt        1, 2, … within the experiment
 * @param command        the command line as arguments (run without a shell)
 * @param flags          the flags (already part of {@code command})
 * @param nodes          machines
 * @param gpus           GPUs per machine
 * @param resources      cloud, region, instance type, accelerator (detected when possible), spot
 * @param gitRef         the git ref to run, or {@code null}
 * @param taskTemplate   a per-experiment backend task template, or {@code null}
 * @param env            environment variables for the job ({@code SKYDECK_LAUNCH_ID},
 *                       {@code SKYDECK_EXPERIMENT}, {@code SKYDECK_ATTEMPT}, …)
 * @param priority       the experiment's priority (higher first; 0 by default), for backends that queue jobs
 */
public record LaunchRequest(String experimentName, String launchId, int attempt, List<String> command,
                            Map<String, Object> flags, int nodes, int gpus, Resources resources, String gitRef,
                            String taskTemplate, Map<String, String> env, int priority) {
    /** Requires the identifying fields and freezes the collections. */
    public LaunchRequest {
        Objects.requireNonNull(experimentName, "experimentName");
        Objects.requireNonNull(launchId, "launchId");
        command = List.copyOf(command);
        flags = flags == null ? Map.of() : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(flags));
        resources = resources == null ? Resources.ANY : resources;
        env = env == null ? Map.of() : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(env));
    }

    /** A request at the default priority. */
    public LaunchRequest(String experimentName, String launchId, int attempt, List<String> command,
                         Map<String, Object> flags, int nodes, int gpus, Resources resources, String gitRef,
                         String taskTemplate, Map<String, String> env) {
        this(experimentName, launchId, attempt, command, flags, nodes, gpus, resources, gitRef, taskTemplate, env, 0);
    }
}
