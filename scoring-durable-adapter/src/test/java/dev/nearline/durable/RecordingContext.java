package dev.nearline.durable;

import com.microsoft.azure.functions.ExecutionContext;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/** An {@link ExecutionContext} whose logger records what the function logged (the host is not here). */
final class RecordingContext implements ExecutionContext {
    private final String invocationId;
    private final Logger logger;
    private final List<String> lines = new CopyOnWriteArrayList<>();

    RecordingContext(String invocationId) {
        this.invocationId = invocationId;
        this.logger = Logger.getAnonymousLogger();
        logger.setUseParentHandlers(false);
        logger.addHandler(new Handler() {
            @Override
            public void publish(LogRecord record) {
                lines.add(record.getLevel() + " " + record.getMessage());
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        });
    }

    @Override
    public Logger getLogger() {
        return logger;
    }

    @Override
    public String getInvocationId() {
        return invocationId;
    }

    @Override
    public String getFunctionName() {
        return "test";
    }

    List<String> lines() {
        return lines;
    }
}
