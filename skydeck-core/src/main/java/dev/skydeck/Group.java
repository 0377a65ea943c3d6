package dev.skydeck;

import dev.skydeck.internal.Validate;
import java.util.List;

/**
 * A named, ordered set of experiments (an experiment may be in several groups).
 *
 * @param id            assigned by the store ({@code 0} before insertion)
 * @param name          display name, 1 to 200 characters
 * @param namePrefix    the default name prefix for experiments created in it, or {@code null}
 * @param flags         flag columns to show; empty means derive them from the members
 * @param order         position among groups
 * @param collapsed     collapsed in the dashboard
 * @param experimentIds members, in display order
 */
public record Group(long id, String name, String namePrefix, List<String> flags, int order, boolean collapsed,
                    List<Long> experimentIds) {
    /** Validates the fields. */
    public Group {
        if (name == null || name.isBlank() || name.length() > 200 || name.chars().anyMatch(c -> c < 0x20)) {
            throw Validate.invalid("group name " + (name == null ? "(missing)" : "'" + name + "'")
                    + " is not allowed: 1 to 200 characters on one line");
        }
        namePrefix = Validate.namePrefix(namePrefix);
        flags = flags == null ? List.of() : flags.stream().map(Validate::flagKey).distinct().toList();
        experimentIds = experimentIds == null ? List.of() : experimentIds.stream().distinct().toList();
    }

    /** A new group (not stored yet). */
    public static Group named(String name) {
        return new Group(0, name, null, List.of(), 0, false, List.of());
    }

    /** This group renamed. */
    public Group withName(String value) {
        return new Group(id, value, namePrefix, flags, order, collapsed, experimentIds);
    }

    /** This group with another name prefix. */
    public Group withNamePrefix(String value) {
        return new Group(id, name, value, flags, order, collapsed, experimentIds);
    }

    /** This group with other flag columns. */
    public Group withFlags(List<String> value) {
        return new Group(id, name, namePrefix, value, order, collapsed, experimentIds);
    }

    /** This group at another position. */
    public Group withOrder(int value) {
        return new Group(id, name, namePrefix, flags, value, collapsed, experimentIds);
    }

    /** This group collapsed or not. */
    public Group withCollapsed(boolean value) {
        return new Group(id, name, namePrefix, flags, order, value, experimentIds);
    }

    /** This group with other members, in order. */
    public Group withExperimentIds(List<Long> value) {
        return new Group(id, name, namePrefix, flags, order, collapsed, value);
    }
}
