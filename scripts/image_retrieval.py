"""Image retrieval by codes: nearest neighbours in code space against pixel space.

Mirrors the course's "retrieval" use of autoencoder codes: encode a database of images,
then find each query's nearest neighbours by code. precision@k counts how many of the k
retrieved images show the query's digit; the same queries are run in pixel space.

    python scripts/image_retrieval.py [--quick] [--out DIR] [--pretrained]
"""

# %%
import numpy as np

from keras_ae.course import load_data, parser, save, undercomplete_z20
from keras_ae import latent
from keras_ae.plotting import image_rows

args = parser(__doc__, pretrained="undercomplete.mnist_z20").parse_args()
(x_train, y_train), (x_test, y_test) = load_data(args)

model = undercomplete_z20(args, x_train)


# %% [markdown]
# ## Database = training images, queries = test images

# %%
k = 10
n_db = len(x_train) if not args.quick else 1000
res = latent.retrieval_comparison(model, x_train[:n_db], y_train[:n_db], x_test[:500], y_test[:500], k=k)
print(f"precision@{k}: codes ({model.latent_dim} values) {res['code_precision']:.4f}, "
      f"pixels (784 values) {res['pixel_precision']:.4f}")


# %% [markdown]
# ## Five queries and their neighbours by code

# %%
rows, labels = [], []
for q in range(5):
    rows.append(np.concatenate([x_test[q:q + 1], x_train[res["code_neighbours"][q][:7]]]))
    labels.append(f"query {q}")
save(image_rows(rows, labels=labels, title=f"Query, then its 7 nearest neighbours by code "
                                          f"(precision@{k} = {res['code_precision']:.3f})"),
     args, "retrieval.png")
