package dev.skydeck.internal.schema;

import dev.skydeck.FlagSchema;
import dev.skydeck.FlagSpec;
import dev.skydeck.FlagType;
import dev.skydeck.internal.Validate;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.lang.reflect.RecordComponent;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.Optional;

/** Reads the flags of a Java record or class by reflection (see {@link FlagSchema#fromClass}). */
public final class ClassFlags {
    private static final int MAX_DEPTH = 8;

    private ClassFlags() {
    }

    /** One member: its name, declared type, and how to read it from an instance. */
    private record Member(String name, Class<?> type, Reader reader) {
    }

    private interface Reader {
        Object read(Object instance) throws ReflectiveOperationException;
    }

    /** The schema of {@code type}. */
    public static FlagSchema of(Class<?> type) {
        if (type == null || type.isInterface() || type.isEnum() || type.isPrimitive() || type.isArray()
                || scalarType(type).isPresent()) {
            throw Validate.invalid("a flag schema needs a record or class with fields, not "
                    + (type == null ? "null" : type.getName()));
        }
        List<FlagSpec> specs = new ArrayList<>();
        collect(type, defaultInstance(type), "", new ArrayDeque<>(), specs);
        return FlagSchema.of(specs);
    }

    private static void collect(Class<?> type, Object instance, String prefix, Deque<Class<?>> path,
                                List<FlagSpec> out) {
        if (path.size() >= MAX_DEPTH || path.contains(type)) {
            return;
        }
        path.push(type);
        try {
            for (Member member : members(type)) {
                String key = prefix + member.name();
                if (!Validate.FLAG_KEY.matcher(key).matches()) {
                    continue;
                }
                Object value = instance == null ? null : read(member, instance);
                Optional<FlagType> scalar = scalarType(member.type());
                if (scalar.isPresent()) {
                    out.add(spec(key, scalar.get(), member.type(), value));
                } else if (nestable(member.type())) {
                    Object nested = value != null ? value : instance == null ? null : defaultInstance(member.type());
                    collect(member.type(), nested, key + ".", path, out);
                }
            }
        } finally {
            path.pop();
        }
    }

    private static FlagSpec spec(String key, FlagType type, Class<?> javaType, Object value) {
        List<String> choices = List.of();
        if (type == FlagType.ENUM) {
            choices = Arrays.stream(javaType.getEnumConstants()).map(c -> ((Enum<?>) c).name()).toList();
        }
        Object defaultValue = null;
        if (value instanceof Enum<?> e) {
            defaultValue = e.name();
        } else if (value instanceof Character c) {
            defaultValue = c.toString();
        } else if (value != null) {
            try {
                defaultValue = Validate.flagValue(key, value);
            } catch (RuntimeException notAScalar) {
                defaultValue = null; // NaN, a huge BigInteger: no usable default
            }
        }
        return new FlagSpec(key, type, defaultValue, false, null, choices, List.of(), 0, true);
    }

    private static Optional<FlagType> scalarType(Class<?> t) {
        if (t == boolean.class || t == Boolean.class) {
            return Optional.of(FlagType.BOOL);
        }
        if (t == int.class || t == long.class || t == short.class || t == byte.class || t == Integer.class
                || t == Long.class || t == Short.class || t == Byte.class || t == BigInteger.class) {
            return Optional.of(FlagType.INT);
        }
        if (t == double.class || t == float.class || t == Double.class || t == Float.class
                || t == BigDecimal.class) {
            return Optional.of(FlagType.FLOAT);
        }
        if (t == String.class || t == char.class || t == Character.class) {
            return Optional.of(FlagType.STRING);
        }
        if (t.isEnum()) {
            return Optional.of(FlagType.ENUM);
        }
        return Optional.empty();
    }

    /** Records and plain classes of the user's own, not collections, arrays or JDK types. */
    private static boolean nestable(Class<?> t) {
        if (t.isPrimitive() || t.isArray() || t.isInterface() || Modifier.isAbstract(t.getModifiers())) {
            return false;
        }
        String name = t.getName();
        return !(name.startsWith("java.") || name.startsWith("javax.") || name.startsWith("jdk.")
                || name.startsWith("sun.") || name.startsWith("kotlin.") || name.startsWith("scala."));
    }

    private static List<Member> members(Class<?> type) {
        List<Member> members = new ArrayList<>();
        if (type.isRecord()) {
            for (RecordComponent c : type.getRecordComponents()) {
                members.add(new Member(c.getName(), c.getType(), instance -> {
                    var accessor = c.getAccessor();
                    accessor.setAccessible(true);
                    return accessor.invoke(instance);
                }));
            }
            return members;
        }
        // Superclass fields first, in declaration order.
        Deque<Class<?>> chain = new ArrayDeque<>();
        for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
            chain.push(c);
        }
        for (Class<?> c : chain) {
            for (Field f : c.getDeclaredFields()) {
                int mod = f.getModifiers();
                if (Modifier.isStatic(mod) || Modifier.isTransient(mod) || f.isSynthetic()) {
                    continue;
                }
                members.add(new Member(f.getName(), f.getType(), instance -> {
                    f.setAccessible(true);
                    return f.get(instance);
                }));
            }
        }
        return members;
    }

    private static Object read(Member member, Object instance) {
        try {
            return member.reader().read(instance);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null; // inaccessible (module rules): no default
        }
    }

    /** An instance made with the no-arg constructor, or null when there is none or it fails. */
    private static Object defaultInstance(Class<?> type) {
        if (type.isEnum() || type.isInterface() || Modifier.isAbstract(type.getModifiers())
                || (type.isMemberClass() && !Modifier.isStatic(type.getModifiers()))) {
            return null;
        }
        try {
            Constructor<?> ctor = type.getDeclaredConstructor();
            ctor.setAccessible(true);
            return ctor.newInstance();
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            return null;
        }
    }
}
