"""Rasa's model load without its throwaway training step, and with the same weights.

To give a TensorFlow model (DIET, TED, ResponseSelector) variables of the right shapes, Rasa's
`RasaModel.load` trains it for one step on one stored example (`model.fit`), then loads the
trained weights over the result. Tracing that step into a graph (forward pass, gradients, Adam)
is most of a load: about 18 s of the test stage's 42 s CPU on financial-demo. A forward pass of
the same training loss on the same example, run eagerly, creates the same model variables;
`load_weights` then restores every one of them from the trained model. The optimizer, which
prediction never uses, is left unbuilt, so its saved slots are not restored.

A load that cannot be checked falls back to Rasa's own, with a NOTE: the weights must match every
variable the model has (`assert_existing_objects_matched`), or the model is loaded again Rasa's way.
Prediction afterwards is Rasa's own code, traced as in `rasa test`.
"""

import sys


def load_without_training_step() -> None:
    """Replaces `RasaModel.load` in this process (the test stage's) with `_load`."""
    from rasa.utils.tensorflow.models import RasaModel

    rasa_load = RasaModel.load.__func__

    def load(
        cls,
        model_file,
        model_data_example,
        predict_data_example=None,
        finetune_mode=False,
        *args,
        **kwargs,
    ):
        if not finetune_mode:
            try:
                return _load(
                    cls, model_file, model_data_example, predict_data_example, *args, **kwargs
                )
            except Exception as error:  # anything unexpected: Rasa's own load decides
                print(f"NOTE: {cls.__name__} loaded Rasa's way ({error})", file=sys.stderr)
        return rasa_load(
            cls,
            model_file,
            model_data_example,
            predict_data_example,
            finetune_mode,
            *args,
            **kwargs,
        )

    RasaModel.load = classmethod(load)


def _load(cls, model_file, model_data_example, predict_data_example, *args, **kwargs):
    import tensorflow as tf
    from rasa.utils.tensorflow.constants import LEARNING_RATE, RUN_EAGERLY
    from rasa.utils.tensorflow.data_generator import RasaBatchDataGenerator

    # as RasaModel.load, up to its model.fit
    model = cls(*args, **kwargs)
    config = kwargs.get("config", {})
    model.compile(
        optimizer=tf.keras.optimizers.Adam(config.get(LEARNING_RATE, 0.001)),
        run_eagerly=config.get(RUN_EAGERLY),
    )
    example, _ = RasaBatchDataGenerator(model_data_example, batch_size=1)[0]

    # the forward half of RasaModel.train_step: builds every layer's variables
    model._training = True
    model.batch_loss(tuple(tf.convert_to_tensor(array) for array in example))
    model._training = None

    model.load_weights(model_file).assert_existing_objects_matched()

    # as RasaModel.load, after its load_weights
    if predict_data_example:
        model.run_inference(predict_data_example)
    return model
