package dev.skydeck.internal.usecase;

import dev.skydeck.Actor;
import dev.skydeck.Event;
import dev.skydeck.EventType;
import dev.skydeck.Group;
import dev.skydeck.SkyDeckException;
import dev.skydeck.internal.Engine;
import dev.skydeck.internal.Validate;
import dev.skydeck.internal.Writer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;

/**
 * What users do to groups. Membership and order are presentation: they never touch an
 * experiment's version. Every change is an event without an experiment, so open dashboards regroup.
 */
public final class GroupCommands {
    private final Engine engine;
    private final Writer writer;

    /** Commands over {@code engine}, done for {@code user} ({@code null}: no user). */
    public GroupCommands(Engine engine, String user) {
        this.engine = engine;
        this.writer = engine.writer().as(user);
    }

    private static Group stored(Writer.Unit w, long id) {
        return w.tx().group(id).orElseThrow(() -> new SkyDeckException.NotFound("no group with id " + id));
    }

    private Group changed(Writer.Unit w, Group g, EventType type, String message) {
        w.event(Event.draft(engine.clock().instant(), Actor.USER, type, null, null, true, message, null));
        return g;
    }

    /** Refuses a name another group already has (two groups with one name cannot be told apart). */
    private static void requireFreeName(Writer.Unit w, Group group, Long self) {
        for (Group other : w.tx().groups()) {
            if (other.name().equals(group.name()) && (self == null || other.id() != self)) {
                throw new SkyDeckException.Conflict(SkyDeckException.Conflict.Reason.NAME_TAKEN, "a group named '"
                        + group.name() + "' already exists (id " + other.id() + "): choose another name");
            }
        }
    }

    /** Creates a group at the end; its name must be free. */
    public Group create(Group group) {
        return writer.write(w -> {
            requireFreeName(w, group, null);
            ExperimentCommands.requireExperiments(w, group.experimentIds());
            Group g = w.tx().insertGroup(group);
            return changed(w, g, EventType.CREATE, "created group " + g.name());
        });
    }

    /** Writes a group's name (which must be free), prefix, flags, order, collapsed state and members. */
    public Group update(Group group) {
        return writer.write(w -> {
            stored(w, group.id());
            requireFreeName(w, group, group.id());
            ExperimentCommands.requireExperiments(w, group.experimentIds());
            return changed(w, w.tx().updateGroup(group), EventType.UPDATE, "updated group " + group.name());
        });
    }

    /** Deletes a group; its experiments stay. */
    public void delete(long groupId) {
        writer.write(w -> {
            Group g = stored(w, groupId);
            w.tx().deleteGroup(groupId);
            return changed(w, g, EventType.DELETE, "deleted group " + g.name());
        });
    }

    /** Adds experiments at the end; unless {@code multiHome} they leave every other group. */
    public Group add(long groupId, List<Long> experimentIds, boolean multiHome) {
        return writer.write(w -> {
            Group target = stored(w, groupId);
            ExperimentCommands.requireExperiments(w, experimentIds);
            if (!multiHome) {
                for (Group g : w.tx().groups()) {
                    if (g.id() != groupId && g.experimentIds().stream().anyMatch(experimentIds::contains)) {
                        w.tx().updateGroup(g.withExperimentIds(g.experimentIds().stream()
                                .filter(id -> !experimentIds.contains(id)).toList()));
                    }
                }
            }
            List<Long> members = new ArrayList<>(target.experimentIds());
            for (long id : experimentIds) {
                if (!members.contains(id)) {
                    members.add(id);
                }
            }
            return changed(w, w.tx().updateGroup(target.withExperimentIds(members)), EventType.UPDATE,
                    (multiHome ? "added " : "moved ") + experimentIds.size() + " experiment(s) to group " + target.name());
        });
    }

    /** Removes one experiment from a group. */
    public Group remove(long groupId, long experimentId) {
        return writer.write(w -> {
            Group g = stored(w, groupId);
            if (!g.experimentIds().contains(experimentId)) {
                throw new SkyDeckException.NotFound("experiment " + experimentId + " is not in group " + g.name());
            }
            return changed(w, w.tx().updateGroup(g.withExperimentIds(g.experimentIds().stream()
                    .filter(id -> id != experimentId).toList())), EventType.UPDATE, "removed experiment "
                    + experimentId + " from group " + g.name());
        });
    }

    /** Orders a group's members as {@code experimentIds} (exactly its members). */
    public Group reorder(long groupId, List<Long> experimentIds) {
        return writer.write(w -> {
            Group g = stored(w, groupId);
            if (!new HashSet<>(experimentIds).equals(new HashSet<>(g.experimentIds()))
                    || experimentIds.size() != g.experimentIds().size()) {
                throw Validate.invalid("the new order must list exactly the group's " + g.experimentIds().size()
                        + " members, each once");
            }
            return changed(w, w.tx().updateGroup(g.withExperimentIds(experimentIds)), EventType.UPDATE,
                    "reordered group " + g.name());
        });
    }

    /** Orders groups as {@code groupIds}. */
    public List<Group> reorderAll(List<Long> groupIds) {
        return writer.write(w -> {
            for (int i = 0; i < groupIds.size(); i++) {
                w.tx().updateGroup(stored(w, groupIds.get(i)).withOrder(i));
            }
            changed(w, null, EventType.UPDATE, "reordered groups");
            return w.tx().groups();
        });
    }
}
