"""The faces section of RESULTS.md: the face VAE's shipped smile vector, judged by a separate classifier."""

from benchmarks.report_format import _table, _verdict, made_by


def faces_section(f, run=None):
    c = f["classifier"]
    rows = [[what, f"{share:.3f}"] for what, share in f["read_smiling"].items()]
    after = f["read_smiling"]["alpha = 1"]
    return [
        "## Faces: the smile vector of `" + f["entry"] + "`", "", made_by(run), "",
        f"Data: {f['data']['source']}. **CelebA is for non-commercial research and education only.** The vector "
        "is the one the entry ships (`keras_ae.zoo.load_attributes`): the mean code of the smiling training faces "
        "minus that of the others (images 1-27000). The judge is a small CNN (`benchmarks.faces."
        "smile_classifier`) trained on 90% of the training faces, its epoch chosen on the other 10% "
        f"(epoch {c['best_epoch']} of {c['epochs_run']}, validation accuracy {c['val_accuracy']:.3f}). Its accuracy "
        f"on the {f['data']['test_images']} test faces (27001-30000): {c['test_accuracy']:.3f} on the faces, "
        f"{c['test_accuracy_reconstructions']:.3f} on the VAE's reconstructions of them.", "",
        f"Share of the {f['non_smiling']} non-smiling test faces that the classifier reads as smiling, after "
        "decoding code + alpha x vector:", "",
        _table(["images", "read as smiling"], rows), "",
        f"The other way: of the {f['smiling']} smiling test faces, {f['smiling_read_smiling_reconstructions']:.3f} "
        f"of the reconstructions read as smiling, and {f['smiling_read_smiling_after_subtracting']:.3f} after "
        "subtracting the vector once.", "",
        f"Target (at least {f['target']:.0%} read as smiling after adding the vector once, alpha = 1): "
        f"{_verdict(after >= f['target'])} ({after:.3f}).", "",
        "Tried: only the course's vector (the difference of the two groups' mean posterior codes over all "
        "training faces), measured once; the judge's epoch was chosen on held-out training faces before any "
        "test face was scored. Not tried: a vector fitted by a linear classifier on the codes, or a longer-"
        "trained VAE.", ""]
