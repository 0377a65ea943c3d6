package dev.skydeck.cli.internal;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.PatternLayout;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ConfiguratorRank;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.LayoutWrappingEncoder;
import ch.qos.logback.core.spi.ContextAwareBase;

/**
 * The server's and the command line's logging, set up in code (a {@link Configurator} found
 * through {@code META-INF/services}): one line per event on stdout, {@code %msg} and stack traces
 * scrubbed of every secret SkyDeck knows, the level from {@code SKYDECK_LOG_LEVEL}, and libraries
 * quiet below WARN.
 *
 * <p>In code rather than in a {@code logback.xml} because reading an XML configuration costs
 * about a tenth of a second of every start. A {@code logback.xml} of one's own still wins: name it
 * with {@code -Dlogback.configurationFile=…} (in {@code SKYDECK_JAVA_OPTS}); the tests' {@code
 * logback-test.xml} does too.
 */
@ConfiguratorRank(ConfiguratorRank.CUSTOM_HIGH_PRIORITY)
public final class LogConfiguration extends ContextAwareBase implements Configurator {
    /** The line of every event: time, level, thread, logger, the experiment it is about, message. */
    static final String PATTERN = "%d{yyyy-MM-dd HH:mm:ss.SSS} %-5level [%thread] %logger{0}%replace( [%X{experiment}]){' \\[\\]', ''}"
            + " - %msg%n%ex";
    private static final String[] QUIET = {"org.eclipse.jetty", "io.javalin", "com.zaxxer.hikari", "org.flywaydb",
            "software.amazon"};

    @Override
    public ExecutionStatus configure(LoggerContext context) {
        if (System.getProperty("logback.configurationFile") != null
                || LogConfiguration.class.getClassLoader().getResource("logback-test.xml") != null) {
            return ExecutionStatus.INVOKE_NEXT_IF_ANY; // a configuration file of one's own
        }
        apply(context);
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }

    /**
     * Configures {@code context} as shipped: the console appender on {@code SKYDECK_LOG_TARGET}
     * ({@code System.out}, or {@code System.err} for commands that answer on stdout) at {@code
     * SKYDECK_LOG_LEVEL} (INFO), each read as a system property first and then from the environment.
     */
    public static void apply(LoggerContext context) {
        PatternLayout layout = new PatternLayout();
        layout.setContext(context);
        layout.getInstanceConverterMap().put("msg", RedactingMessageConverter::new);
        layout.getInstanceConverterMap().put("ex", RedactingThrowableConverter::new);
        layout.setPattern(PATTERN);
        layout.start();
        LayoutWrappingEncoder<ILoggingEvent> encoder = new LayoutWrappingEncoder<>();
        encoder.setContext(context);
        encoder.setLayout(layout);
        encoder.start();

        ConsoleAppender<ILoggingEvent> console = new ConsoleAppender<>();
        console.setContext(context);
        console.setName("OUT");
        console.setTarget("System.err".equals(setting("SKYDECK_LOG_TARGET")) ? "System.err" : "System.out");
        console.setEncoder(encoder);
        console.start();

        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.toLevel(setting("SKYDECK_LOG_LEVEL"), Level.INFO));
        root.addAppender(console);
        for (String name : QUIET) {
            context.getLogger(name).setLevel(Level.WARN);
        }
    }

    private static String setting(String name) {
        String value = System.getProperty(name);
        return value != null ? value : System.getenv(name);
    }
}
