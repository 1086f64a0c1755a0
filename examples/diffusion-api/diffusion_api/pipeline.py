"""The diffusion pipeline. Its imports are the heavy ones that CI replaces with stubs.

In production, `ldm` comes from the stable-diffusion-stability-ai repository,
`k_diffusion` from k-diffusion and `sgm` from generative-models, all cloned
under `repositories/` and put on `sys.path` (see `paths.py`). In CI,
`ci-helper stubs create` writes declared stubs there instead, and fake
inference answers with a fixed image.
"""

from __future__ import annotations

import random
from typing import Any, Callable

import k_diffusion.sampling
from ldm.models.diffusion.ddpm import LatentDepth2ImageDiffusion, LatentDiffusion
from ldm.util import default, instantiate_from_config
from sgm.modules.diffusionmodules.discretizer import LegacyDDPMDiscretization

from diffusion_api import fakes
from diffusion_api.payload import Txt2ImgRequest

SAMPLERS: dict[str, Callable[..., Any]] = {
    "Euler": k_diffusion.sampling.sample_euler,
    "Euler a": k_diffusion.sampling.sample_euler_ancestral,
    "DPM++ 2M": k_diffusion.sampling.sample_dpmpp_2m,
}

MODEL_CONFIG = {"target": "ldm.models.diffusion.ddpm.LatentDiffusion", "params": {"scale_factor": 0.18215}}


class InferenceUnavailable(RuntimeError):
    """The real pipeline cannot run here (no weights, or stubbed packages)."""


class Pipeline:
    """Loads the model on first use and turns a request into base64 PNG images."""

    def __init__(self, fake_inference: bool | None = None) -> None:
        self.fake_inference = fakes.enabled() if fake_inference is None else fake_inference
        self.model: LatentDiffusion | None = None
        self.discretization = LegacyDDPMDiscretization()

    def load(self) -> LatentDiffusion:
        if self.model is None:
            try:
                model = instantiate_from_config(MODEL_CONFIG)
            except NotImplementedError as exc:
                raise InferenceUnavailable(f"the model cannot be loaded: {exc}") from exc
            if not isinstance(model, LatentDiffusion):
                raise InferenceUnavailable(f"{MODEL_CONFIG['target']} did not build a LatentDiffusion")
            self.model = model
        return self.model

    def supports_depth(self) -> bool:
        return isinstance(self.model, LatentDepth2ImageDiffusion)

    def txt2img(self, request: Txt2ImgRequest) -> dict[str, Any]:
        seed = request.seed if request.seed >= 0 else random.SystemRandom().randrange(2**32)
        info = {"prompt": request.prompt, "seed": seed, "sampler_name": request.sampler_name,
                "steps": request.steps, "fake_inference": self.fake_inference}
        if self.fake_inference:
            return {"images": [fakes.image_base64()] * request.batch_size, "info": info}
        model = self.load()
        sampler = SAMPLERS[request.sampler_name]
        try:
            sigmas = k_diffusion.sampling.get_sigmas_karras(n=request.steps, sigma_min=0.03, sigma_max=14.6)
            samples = sampler(model, default(None, sigmas), extra_args={"cond": request.prompt})
        except NotImplementedError as exc:
            raise InferenceUnavailable(f"sampling is not available: {exc}") from exc
        return {"images": [model.decode_first_stage(s) for s in samples], "info": info}
