"""The lakes study's ``Patch_creator`` (appendix, "Patch Creation Code"), re-implemented faithfully.

BASELINE ONLY, for ``bench_patches.py``. Do not use it: it keeps the study's slips on purpose.

- Patches are ``(size - 1) x (size - 1)``: ``vert_pos2 = vertical - 1`` is used as an exclusive
  slice end (the study's "31 x 31" patches cut from a 32 grid).
- The "big enough" check compares shape tuples lexicographically: ``(38, 10) > (32, 32)`` is True.
- Every kept patch is appended with ``np.vstack`` onto the growing arrays (quadratic copying),
  and labels are one-hot encoded patch by patch with scikit-learn's ``LabelBinarizer``.
- A patch is kept unless all of its pixels are of one class (1, 2 or 3).

The PDF lost the code's indentation; we read it the only way that runs as described: the
vertical shift and horizontal reset happen after each row of patches, and the function returns
after the loops. ``X_array == []`` on a NumPy array (an elementwise-comparison warning in 2018's
NumPy, an error now) is written as ``isinstance(X_array, list)``, which is what it tested.
"""

import math

import numpy as np
from sklearn import preprocessing


def Patch_creator(image, X_array, Y_array, horizontal, vertical):
    # Get Features (pixels) and labels for the image
    pixels = image["X"]
    labels = image["Y"]

    # Used to encode
    lb = preprocessing.LabelBinarizer()
    lb.fit([1, 2, 3])

    # check to see if patch size is bigger than image
    if labels.shape > (horizontal, vertical):
        # Find how many patches can be achieved vertically and horizontally
        Num_Horizontal = math.floor(labels.shape[1] / horizontal)
        Num_Vert = math.floor(labels.shape[0] / vertical)

        # initialize vertical position
        vert_pos1 = 0
        vert_pos2 = vertical - 1

        # initialize horizontal position
        horz_pos1 = horizontal * -1
        horz_pos2 = -1

        for vertical_shift in range(Num_Vert):
            # Get all horizontal shifts for each vertical shift first
            for horizontal_shift in range(Num_Horizontal):
                horz_pos1 = horz_pos1 + horizontal
                horz_pos2 = horz_pos2 + horizontal

                # slices image on dimensions to get patch
                X_patch = pixels[vert_pos1:vert_pos2, horz_pos1:horz_pos2, :].reshape(
                    1, vertical - 1, horizontal - 1, pixels.shape[2])

                # Binarization and Encode classes (3)
                Y_patch = labels[vert_pos1:vert_pos2, horz_pos1:horz_pos2].reshape(
                    (vertical - 1) * (horizontal - 1))
                Encoded_Y_patch = lb.transform(Y_patch)
                Encoded_Y_patch = Encoded_Y_patch.reshape(1, Encoded_Y_patch.shape[0], Encoded_Y_patch.shape[1])

                if (sum(Encoded_Y_patch[0, :])[1] != Encoded_Y_patch.shape[1]
                        and sum(Encoded_Y_patch[0, :])[0] != Encoded_Y_patch.shape[1]
                        and sum(Encoded_Y_patch[0, :])[2] != Encoded_Y_patch.shape[1]):
                    # If you have an empty array, create a new one, else keep adding patches and info
                    if isinstance(X_array, list):
                        X_array = np.array(X_patch)
                    else:
                        X_array = np.vstack((X_array, X_patch))

                    if isinstance(Y_array, list):
                        Y_array = np.array(Encoded_Y_patch)
                    else:
                        Y_array = np.vstack((Y_array, Encoded_Y_patch))

            # Shift vertical Patch
            vert_pos1 = vert_pos1 + vertical
            vert_pos2 = vert_pos2 + vertical

            # reset horizontal position
            horz_pos1 = horizontal * -1
            horz_pos2 = -1

    return (X_array, Y_array)


def study_patches(images, size):
    """Run ``Patch_creator`` over ``images`` (dicts with ``X`` (rows, cols, bands) and ``Y`` (rows, cols))."""
    X_array, Y_array = [], []
    for image in images:
        X_array, Y_array = Patch_creator(image, X_array, Y_array, size, size)
    return X_array, Y_array
