package dev.skydeck.server.internal;

import dev.skydeck.DesiredState;
import dev.skydeck.ExperimentSpec;
import dev.skydeck.Resources;
import dev.skydeck.RestartPolicy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * The experiment fields a request sets, read once from its body and applicable to any spec: to
 * a new one on create, to the stored one on PATCH (again on each retry), to a copy on duplicate.
 * {@code flags} replaces every flag; {@code set_flags} sets some (the others stay, exactly as
 * stored) and {@code unset_flags} removes some, so a client sends only what it changed.
 */
public final class SpecPatch implements UnaryOperator<ExperimentSpec> {
    private final List<UnaryOperator<ExperimentSpec>> changes = new ArrayList<>();

    private SpecPatch() {
    }

    /** Reads every experiment field present in {@code b} (the caller still calls {@link Body#finish()}). */
    public static SpecPatch read(Body b) {
        SpecPatch p = new SpecPatch();
        if (b.has("name")) {
            String name = b.text("name");
            p.changes.add(s -> s.name(name));
        }
        if (b.has("flags")) {
            Map<String, Object> flags = b.optFlags("flags");
            p.changes.add(s -> s.flags(flags == null ? Map.of() : flags));
        }
        Map<String, Object> set = b.optFlags("set_flags");
        if (set != null) {
            p.changes.add(s -> {
                Map<String, Object> merged = new java.util.LinkedHashMap<>(s.flags());
                merged.putAll(set);
                return s.flags(merged);
            });
        }
        List<String> unset = b.optStrings("unset_flags");
        if (unset != null) {
            p.changes.add(s -> {
                Map<String, Object> kept = new java.util.LinkedHashMap<>(s.flags());
                unset.forEach(kept::remove);
                return s.flags(kept);
            });
        }
        if (b.has("base_command")) {
            String v = b.optText("base_command");
            p.changes.add(s -> s.baseCommand(v == null ? ExperimentSpec.DEFAULT_BASE_COMMAND : v));
        }
        if (b.has("tool_path")) {
            String v = b.optText("tool_path");
            p.changes.add(s -> s.toolPath(v));
        }
        if (b.has("git_branch")) {
            String v = b.optText("git_branch");
            p.changes.add(s -> s.gitBranch(v));
        }
        Integer nodes = b.optInt("nodes");
        if (nodes != null) {
            p.changes.add(s -> s.nodes(nodes));
        }
        Integer gpus = b.optInt("gpus");
        if (gpus != null) {
            p.changes.add(s -> s.gpus(gpus));
        }
        Body r = b.optObject("resources");
        if (r != null) {
            p.changes.add(resources(r));
        }
        // the original SkyDeck's flat fields, so its scripts keep working
        if (FLAT_RESOURCES.stream().anyMatch(b::has)) {
            if (r != null) {
                throw ApiException.badRequest("give the resources either as the object 'resources' or as the fields "
                        + String.join(", ", FLAT_RESOURCES) + " (as the original SkyDeck did), not both");
            }
            p.changes.add(resourceFields(b, false));
        }
        DesiredState desired = b.optEnum("desired_state", DesiredState.class);
        if (desired != null) {
            p.changes.add(s -> s.desired(desired));
        }
        Body rp = b.optObject("restart_policy");
        if (rp != null) {
            p.changes.add(restartPolicy(rp));
        }
        Integer priority = b.optInt("priority");
        if (priority != null) {
            p.changes.add(s -> s.priority(priority));
        }
        if (b.has("description")) {
            String v = b.optText("description");
            p.changes.add(s -> s.description(v));
        }
        if (b.has("tags")) {
            List<String> v = b.optStrings("tags");
            p.changes.add(s -> s.tags(v == null ? List.of() : v));
        }
        if (b.has("task_template")) {
            String v = b.optText("task_template");
            p.changes.add(s -> s.taskTemplate(v));
        }
        if (b.has("run_name")) {
            String v = b.optText("run_name");
            p.changes.add(s -> s.runName(v));
        }
        return p;
    }

    /** The original SkyDeck's resource fields at the top of an experiment. */
    private static final List<String> FLAT_RESOURCES = List.of("cloud", "region", "instance_type", "spot");

    private static UnaryOperator<ExperimentSpec> resources(Body r) {
        UnaryOperator<ExperimentSpec> change = resourceFields(r, true);
        r.finish();
        return change;
    }

    /** The resource fields of {@code r}: all of them in a 'resources' object, the original's four at the top. */
    private static UnaryOperator<ExperimentSpec> resourceFields(Body r, boolean nested) {
        boolean cloudSet = r.has("cloud");
        String cloud = r.optText("cloud");
        boolean regionSet = r.has("region");
        String region = r.optText("region");
        boolean typeSet = r.has("instance_type");
        String type = r.optText("instance_type");
        boolean accSet = nested && r.has("accelerator");
        String acc = accSet ? r.optText("accelerator") : null;
        Boolean spot = r.optBool("spot");
        boolean poolSet = nested && r.has("pool");
        String pool = poolSet ? r.optText("pool") : null;
        return s -> {
            Resources old = s.resources() == null ? Resources.ANY : s.resources();
            return s.resources(new Resources(cloudSet ? cloud : old.cloud(), regionSet ? region : old.region(),
                    typeSet ? type : old.instanceType(), accSet ? acc : old.accelerator(),
                    spot != null ? spot : old.spot(), poolSet ? pool : old.pool()));
        };
    }

    private static UnaryOperator<ExperimentSpec> restartPolicy(Body rp) {
        RestartPolicy.Mode mode = rp.optEnum("mode", RestartPolicy.Mode.class);
        Integer max = rp.optInt("max_restarts");
        Long backoff = rp.optLong("backoff_seconds");
        Long maxBackoff = rp.optLong("max_backoff_seconds");
        rp.finish();
        return s -> {
            RestartPolicy old = s.restartPolicy();
            return s.restartPolicy(new RestartPolicy(mode != null ? mode : old.mode(),
                    max != null ? max : old.maxRestarts(),
                    backoff != null ? Duration.ofSeconds(backoff) : old.backoff(),
                    maxBackoff != null ? Duration.ofSeconds(maxBackoff) : old.maxBackoff()));
        };
    }

    /** Whether the request changes anything. */
    public boolean isEmpty() {
        return changes.isEmpty();
    }

    @Override
    public ExperimentSpec apply(ExperimentSpec spec) {
        ExperimentSpec s = spec;
        for (UnaryOperator<ExperimentSpec> c : changes) {
            s = c.apply(s);
        }
        return s;
    }
}
