package dev.nearline.onnx.internal;

import ai.onnxruntime.MapInfo;
import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.SequenceInfo;
import ai.onnxruntime.TensorInfo;
import ai.onnxruntime.ValueInfo;
import dev.nearline.api.DataType;
import dev.nearline.api.ModelSignature;
import dev.nearline.api.ScoringException;
import dev.nearline.api.Tensor;
import dev.nearline.api.TensorSpec;
import dev.nearline.api.Tensors;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * A session's inputs and outputs in Nearline's terms: ONNX Runtime's {@link NodeInfo}s mapped to
 * {@link TensorSpec}s (a ZipMap or map output {@code p} becomes {@code p} plus {@code p.keys}; a
 * {@code sequence<tensor>} output is run but not declared; an output whose element type Nearline cannot
 * carry is dropped with a warning), and the checks a record's inputs must pass. Immutable.
 */
public final class OrtSignature {
    final String model;
    final String[] inputNames;
    final TensorSpec[] inputSpecs;
    /** Why no record can be fed (inputs the Java API cannot create), or null. */
    final @Nullable String unfeedable;
    /** The outputs a run returns, in the session's order (a dropped output is not run). */
    final String[] outputNames;
    /** Per output: its declared tensor info when it is a tensor, else null. */
    final @Nullable TensorInfo[] outputTensorInfo;
    /** Per output: its data type when it is a tensor, else null (computed once: the lookup builds strings). */
    final @Nullable DataType[] outputTypes;
    /** The outputs to ask a run for when some were dropped, else null (run them all). */
    final @Nullable Set<String> requestedOutputs;
    /** Outputs every record of a batch shares (the {@code .keys} of map outputs), not split by rows. */
    final Set<String> sharedOutputs;
    /** Every output the session declares, dropped ones too, for the batching rule. */
    final Map<String, NodeInfo> sessionOutputs;
    private final boolean anyStringInput;
    private final ModelSignature signature;

    private OrtSignature(String model, Map<String, NodeInfo> inputs, Map<String, NodeInfo> outputs) {
        this.model = model;
        List<TensorSpec> inSpecs = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        boolean anyString = false;
        for (NodeInfo node : inputs.values()) {
            ValueInfo info = node.getInfo();
            String input = node.getName().intern(); // the stages' names are interned too: equals by identity
            if (info instanceof TensorInfo && OrtTypes.isFeedable((TensorInfo) info)) {
                TensorInfo t = (TensorInfo) info;
                DataType type = Objects.requireNonNull(OrtTypes.dataType(t));
                anyString |= type == DataType.BYTES;
                inSpecs.add(new TensorSpec(input, type, t.getShape().length == 0 ? null : t.getShape()));
            } else {
                problems.add("input '" + input + "' is " + OrtTypes.describe(info)
                        + ", which ONNX Runtime's Java API cannot create");
                long[] declared = info instanceof TensorInfo ? ((TensorInfo) info).getShape() : null;
                inSpecs.add(new TensorSpec(input, reportedType(info), declared == null || declared.length == 0 ? null : declared));
            }
        }
        this.anyStringInput = anyString;
        this.inputSpecs = inSpecs.toArray(new TensorSpec[0]);
        this.inputNames = new String[inputSpecs.length];
        for (int i = 0; i < inputSpecs.length; i++) {
            inputNames[i] = inputSpecs[i].name();
        }
        this.unfeedable = problems.isEmpty() ? null : "model '" + model + "': " + String.join("; ", problems);

        List<TensorSpec> outSpecs = new ArrayList<>();
        List<String> outNames = new ArrayList<>();
        List<@Nullable TensorInfo> outInfo = new ArrayList<>();
        Set<String> shared = new HashSet<>();
        for (NodeInfo node : outputs.values()) {
            ValueInfo info = node.getInfo();
            String output = node.getName().intern();
            if (info instanceof TensorInfo) {
                TensorInfo t = (TensorInfo) info;
                DataType type = OrtTypes.dataType(t);
                if (type == null) {
                    Log.LOG.warn("model '{}': output '{}' has element type {}, which Nearline has no data type for; "
                            + "it will not be returned", model, output, OrtTypes.elementName(t));
                    continue;
                }
                outSpecs.add(new TensorSpec(output, type, t.getShape().length == 0 ? null : t.getShape()));
                outInfo.add(t);
            } else if (info instanceof SequenceInfo && ((SequenceInfo) info).isSequenceOfMaps()) {
                MapInfo m = ((SequenceInfo) info).mapInfo;
                outSpecs.add(TensorSpec.of(output, OutputReader.mapValueType(m), -1, -1));
                outSpecs.add(TensorSpec.of(output + OutputReader.KEYS_SUFFIX, OutputReader.mapKeyType(m), -1));
                shared.add(output + OutputReader.KEYS_SUFFIX);
                outInfo.add(null);
            } else if (info instanceof MapInfo) {
                MapInfo m = (MapInfo) info;
                outSpecs.add(TensorSpec.of(output, OutputReader.mapValueType(m), -1));
                outSpecs.add(TensorSpec.of(output + OutputReader.KEYS_SUFFIX, OutputReader.mapKeyType(m), -1));
                shared.add(output + OutputReader.KEYS_SUFFIX);
                outInfo.add(null);
            } else {
                // sequence<tensor>: p.0, p.1, ... known only after a run
                outInfo.add(null);
            }
            outNames.add(output);
        }
        this.outputNames = outNames.toArray(new String[0]);
        this.outputTensorInfo = outInfo.toArray(new TensorInfo[0]);
        this.outputTypes = new DataType[outputTensorInfo.length];
        for (int k = 0; k < outputTensorInfo.length; k++) {
            TensorInfo t = outputTensorInfo[k];
            outputTypes[k] = t == null ? null : OrtTypes.dataType(t);
        }
        this.requestedOutputs = outNames.size() == outputs.size() ? null : new LinkedHashSet<>(outNames);
        this.sharedOutputs = Set.copyOf(shared);
        this.sessionOutputs = outputs;
        this.signature = new ModelSignature(inSpecs, outSpecs);
    }

    /** The signature of {@code session}, for messages about model {@code model}. */
    public static OrtSignature read(String model, OrtSession session) throws OrtException {
        return new OrtSignature(model, session.getInputInfo(), session.getOutputInfo());
    }

    /** The inputs and outputs as {@link dev.nearline.onnx.OnnxModel#signature()} documents them. */
    public ModelSignature signature() {
        return signature;
    }

    /** Whether records can run at all: every input can be created, and there are inputs and outputs. */
    boolean runnable() {
        return unfeedable == null && inputSpecs.length > 0 && outputNames.length > 0;
    }

    /** Whether records may run on pooled native buffers: runnable, with no string input. */
    boolean poolable() {
        return runnable() && !anyStringInput;
    }

    /**
     * Checks names, types and declared dimensions; allocates nothing when the record fits.
     *
     * @throws ScoringException {@code INVALID_INPUT} naming the first input that does not fit
     */
    void validate(Tensors inputs) {
        if (unfeedable != null) {
            throw ScoringException.invalidInput(unfeedable);
        }
        for (int i = 0; i < inputSpecs.length; i++) {
            Tensor t = inputs.get(inputNames[i]);
            if (t == null) {
                throw ScoringException.invalidInput("model '" + model + "': missing input '" + inputNames[i]
                        + "' (" + inputSpecs[i].describe() + "), got " + inputs.names());
            }
            String mismatch = inputSpecs[i].mismatch(t);
            if (mismatch != null) {
                throw ScoringException.invalidInput("model '" + model + "': input " + mismatch);
            }
        }
    }

    /** The data type of output {@code k}, which must be a tensor. */
    DataType outputType(int k) {
        return Objects.requireNonNull(outputTypes[k]);
    }

    /**
     * The declared shapes (fresh copies) of every output when all of them are requested and each is a
     * fixed-width tensor of known rank, so that runs could write them into pinned tensors; null otherwise.
     */
    long @Nullable [][] tensorOutputShapes() {
        if (requestedOutputs != null) {
            return null;
        }
        long[][] shapes = new long[outputNames.length][];
        for (int k = 0; k < outputNames.length; k++) {
            TensorInfo info = outputTensorInfo[k];
            if (info == null || !OrtTypes.isFeedable(info) || OrtTypes.dataType(info) == DataType.BYTES) {
                return null;
            }
            long[] s = info.getShape();
            if (s.length == 0) {
                return null;
            }
            shapes[k] = s;
        }
        return shapes;
    }

    private static DataType reportedType(ValueInfo info) {
        DataType t = null;
        if (info instanceof TensorInfo) {
            t = OrtTypes.dataType((TensorInfo) info);
        } else if (info instanceof MapInfo) {
            t = OutputReader.mapValueType((MapInfo) info);
        } else if (info instanceof SequenceInfo) {
            SequenceInfo s = (SequenceInfo) info;
            t = s.isSequenceOfMaps() ? OutputReader.mapValueType(s.mapInfo) : OrtTypes.dataType(s.sequenceType);
        }
        return t == null ? DataType.FP32 : t;
    }
}
