"""Sign zoo entries with an Ed25519 key, or make a key: the maintainer's command line (`keras_ae.zoo.keys`).

    python -m keras_ae.zoo.sign generate ~/keys/zoo_signing_key.pem
    python -m keras_ae.zoo.sign vae.mnist_z2 undercomplete.mnist_z2 --key ~/keys/zoo_signing_key.pem
    python -m keras_ae.zoo.sign all            # every entry in the zoo folder; the key from $KERAS_AE_SIGNING_KEY

Signing checks each entry first (its sha256 signature, and its weights and sampler files against
their hashes), so a key never signs an entry that was edited after it was written.
"""

import argparse
import os

from keras_ae.zoo.index import _manifests
from keras_ae.zoo.keys import ENV_SIGNING_KEY, generate_signing_key, key_id
from keras_ae.zoo.writer import sign_manifest


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m keras_ae.zoo.sign", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="+", help="zoo entries to sign, or 'all'; or: generate PATH")
    parser.add_argument("--key", default=os.environ.get(ENV_SIGNING_KEY),
                        help=f"the private key's PEM file (default ${ENV_SIGNING_KEY})")
    parser.add_argument("--zoo", default=None, help="the zoo folder (default: $KERAS_AE_ZOO, else the package's)")
    args = parser.parse_args(argv)
    if args.names[0] == "generate":
        if len(args.names) != 2:
            parser.error("generate takes one PATH")
        public = generate_signing_key(args.names[1])
        print(f"wrote {args.names[1]} (mode 600); its public key: {public} (id {key_id(public)})")
        return
    if not args.key:
        parser.error(f"give --key PATH or set ${ENV_SIGNING_KEY}")
    names = list(_manifests(args.zoo)) if args.names == ["all"] else args.names
    for name in names:
        sign_manifest(name, args.zoo, signing_key=args.key)
        print(f"signed {name}")


if __name__ == "__main__":
    main()
