"""Semantic change-detection networks: FresUNet (trained from scratch) and a ChangeStar-style
Siamese model on the pretrained EfficientNet-Lite0.

Both take a reference and a test image and return, for each rendering feature, three logit maps:
``seg_ref`` (where the feature is in the reference), ``seg_test`` (where it is in the test image) and
``change`` (where it changed). Both are exactly symmetric: swapping the inputs swaps ``seg_ref`` and
``seg_test`` and leaves ``change`` unchanged (up to float rounding).

Shapes: images (B, 3, H, W), RGB in [0, 1]; every output (B, F, H, W) for F features.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from synthdiff.backbones import EfficientNetLite0, efficientnet_lite0
from synthdiff.change._hysteresis import change_masks
from synthdiff.errors import InvalidArgumentError

__all__ = ["IDENTICAL_TOLERANCE", "ChangeOutput", "ChangeStar", "FresUNet", "identical_pairs", "log_ratio"]


@dataclass
class ChangeOutput:
    """Logits of a change detector, each (B, F, H, W)."""

    seg_ref: torch.Tensor
    seg_test: torch.Tensor
    change: torch.Tensor

    def probabilities(self) -> ChangeOutput:
        """The same maps as probabilities in [0, 1]."""
        return ChangeOutput(self.seg_ref.sigmoid(), self.seg_test.sigmoid(), self.change.sigmoid())

    def masks(
        self,
        threshold: float = 0.5,
        change_threshold: torch.Tensor | None = None,
        change_low: torch.Tensor | None = None,
        change_min_area: int = 0,
    ) -> ChangeOutput:
        """Binary maps: probability above ``threshold``.

        Args:
            change_threshold: per-feature thresholds (F,) for the change maps, e.g. those tuned on the
                validation split and kept in a checkpoint; default ``threshold``.
            change_low: per-feature low thresholds (F,) for the change maps: a pixel above its low
                threshold counts when it is connected to one above ``change_threshold``
                (:func:`~synthdiff.change.hysteresis_mask`); default none (single thresholds).
            change_min_area: connected changed regions of fewer pixels are dropped from the change
                maps (:func:`~synthdiff.change.remove_specks`); default 0, none dropped.
        """
        probabilities = self.probabilities()
        high = (
            torch.full((self.change.shape[1],), threshold, device=self.change.device)
            if change_threshold is None
            else change_threshold
        )
        return ChangeOutput(
            probabilities.seg_ref > threshold,
            probabilities.seg_test > threshold,
            change_masks(probabilities.change, high, change_low, change_min_area),
        )

    def without_change(self, pairs: torch.Tensor) -> ChangeOutput:
        """The same maps, with no change at all in the pairs that ``pairs`` (a (B,) bool) selects.

        Their change logits become the lowest float (probability 0); the segmentations are kept. For
        :func:`identical_pairs`: two copies of one picture have nothing changed, whatever a model
        trained on renders makes of them.
        """
        lowest = torch.finfo(self.change.dtype).min
        return ChangeOutput(
            self.seg_ref, self.seg_test, self.change.masked_fill(pairs.view(-1, 1, 1, 1), lowest)
        )


#: Two images are one picture when no channel of any pixel differs by half an 8-bit step or more.
IDENTICAL_TOLERANCE = 0.5 / 255


def identical_pairs(reference: torch.Tensor, test: torch.Tensor) -> torch.Tensor:
    """(B,) bool: which pairs are one picture twice (every value within :data:`IDENTICAL_TOLERANCE`).

    A change detector run on such a pair can still mark changes: ``fresunet-wide`` marked illumination on
    99 % of a white-noise image compared with itself, and reflection on 0.05 % of a bundled example
    render compared with itself. synthdiff marks none there (:meth:`ChangeOutput.without_change`).

    Shape:
        reference, test: (B, ...) with the same shape, values in [0, 1].
    """
    return (reference - test).abs().flatten(1).amax(1) < IDENTICAL_TOLERANCE


# --- FresUNet -------------------------------------------------------------------------------------


def log_ratio(reference: torch.Tensor, test: torch.Tensor, floor: float = 0.01) -> torch.Tensor:
    """Per-channel log-ratio of the two images' linear light: log((test + floor) / (reference + floor)).

    Args:
        reference, test: (B, 3, H, W) sRGB-encoded values in [0, 1]; decoded with the sRGB curve.
        floor: added to the linear values (0.01 is sRGB 0.1), so that render noise in dark pixels
            does not become large ratios.

    Returns:
        (B, 3, H, W), antisymmetric: swapping the images negates it.
    """

    def linear(x: torch.Tensor) -> torch.Tensor:
        x = x.float().clamp(0, 1)
        return torch.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)

    return torch.log(linear(test) + floor) - torch.log(linear(reference) + floor)


class ResidualBlock(nn.Module):
    """Two 3x3 conv-BN-ReLU layers with an identity (or 1x1-projected) shortcut."""

    def __init__(self, inputs: int, outputs: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(inputs, outputs, 3, padding=1, bias=False),
            nn.BatchNorm2d(outputs),
            nn.ReLU(inplace=True),
            nn.Conv2d(outputs, outputs, 3, padding=1, bias=False),
            nn.BatchNorm2d(outputs),
        )
        self.shortcut: nn.Module = (
            nn.Identity()
            if inputs == outputs
            else nn.Sequential(nn.Conv2d(inputs, outputs, 1, bias=False), nn.BatchNorm2d(outputs))
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.body(x) + self.shortcut(x))

    def zero_init(self) -> ResidualBlock:
        """Start as the identity on non-negative inputs (the last batch-norm scale at zero), so a
        block added to a trained network leaves its function unchanged until training moves it."""
        batch_norm = self.body[-1]
        assert isinstance(batch_norm, nn.BatchNorm2d)
        nn.init.zeros_(batch_norm.weight)
        return self


def _extra_blocks(width: int, count: int) -> nn.Module:
    if count == 0:
        return nn.Identity()
    return nn.Sequential(*(ResidualBlock(width, width).zero_init() for _ in range(count)))


class BottleneckAttention(nn.Module):
    """Self-attention over every position of a coarse feature map (a non-local block, Wang et al. 2018).

    A convolutional U-Net sees about 140 pixels around each pixel at its coarsest level; whether a
    changed floor is a new material (reflection) or new light (illumination) shows in whether the
    rest of the picture changed too, which may lie farther away. Each position here reads the whole
    map. Pre-norm, a residual connection, and an output projection that starts at zero, so a block
    added to a trained network leaves its answers unchanged until training moves it.
    """

    def __init__(self, channels: int, heads: int) -> None:
        super().__init__()
        self.norm = nn.GroupNorm(1, channels)
        self.attention = nn.MultiheadAttention(channels, heads, batch_first=True)
        nn.init.zeros_(self.attention.out_proj.weight)
        nn.init.zeros_(self.attention.out_proj.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, channels, height, width = x.shape
        tokens = self.norm(x).flatten(2).transpose(1, 2)  # (B, H*W, C)
        attended, _ = self.attention(tokens, tokens, tokens, need_weights=False)
        return x + attended.transpose(1, 2).reshape(batch, channels, height, width)


class FresUNet(nn.Module):
    """Early-fusion residual U-Net (after Daudt et al.), with three heads per feature.

    The two images are concatenated (6 channels) and encoded by residual blocks at channels
    ``widths`` (8-16-32-64-128 as published), max-pooled between levels, and decoded with
    transposed convolutions and skip connections. Differences from the published network, and why:
    it predicts 3 maps per feature (two segmentations and the change) instead of one change map,
    and it is made exactly symmetric by running both input orders in one batch and averaging (the
    published one gives different answers when the inputs are swapped). Any H and W work (inputs
    are padded to a multiple of 2^depth and the outputs cropped back).

    Args:
        features: number of rendering features (3 output maps each).
        widths: channels per level, full resolution first.
        extra_encoder: further residual blocks after each encoder level's block (default none), for
            more depth where it is cheap (the coarse levels); they start as the identity, so a
            deeper model can be warm-started from a trained one without changing its answers.
        extra_decoder: the same for each decoder level, coarsest first.
        attention_heads: if above 0, a :class:`BottleneckAttention` block with this many heads after
            the coarsest level, so that every position sees the whole image (default none).
        ratio_inputs: if true, three more input channels: the per-channel log-ratio of the two
            images' linear light (:func:`log_ratio`). A change of light multiplies a surface's
            radiance, so it is smooth in this ratio where a change of material or texture is not;
            a ReLU network cannot easily divide its inputs itself. A model with these channels can be
            warm-started from one without them (their weights start at zero).
    """

    def __init__(
        self,
        features: int,
        widths: tuple[int, ...] = (8, 16, 32, 64, 128),
        extra_encoder: tuple[int, ...] | None = None,
        extra_decoder: tuple[int, ...] | None = None,
        attention_heads: int = 0,
        ratio_inputs: bool = False,
    ) -> None:
        super().__init__()
        self.features = features
        self.widths = widths
        self.ratio_inputs = ratio_inputs
        extra_encoder = extra_encoder or (0,) * len(widths)
        extra_decoder = extra_decoder or (0,) * (len(widths) - 1)
        if len(extra_encoder) != len(widths) or len(extra_decoder) != len(widths) - 1:
            raise ValueError(
                f"Expected {len(widths)} encoder and {len(widths) - 1} decoder block counts, got "
                f"{extra_encoder} and {extra_decoder}."
            )
        self.encoders = nn.ModuleList()
        self.encoder_extras = nn.ModuleList()
        channels = 9 if ratio_inputs else 6
        for width, extra in zip(widths, extra_encoder, strict=True):
            self.encoders.append(ResidualBlock(channels, width))
            self.encoder_extras.append(_extra_blocks(width, extra))
            channels = width
        self.bottleneck: nn.Module = (
            BottleneckAttention(channels, attention_heads) if attention_heads else nn.Identity()
        )
        self.upsamplers = nn.ModuleList()
        self.decoders = nn.ModuleList()
        self.decoder_extras = nn.ModuleList()
        for width, extra in zip(reversed(widths[:-1]), extra_decoder, strict=True):
            self.upsamplers.append(nn.ConvTranspose2d(channels, width, 2, stride=2))
            self.decoders.append(ResidualBlock(2 * width, width))
            self.decoder_extras.append(_extra_blocks(width, extra))
            channels = width
        self.head = nn.Conv2d(channels, 3 * features, 1)

    def grow_from(self, narrower: FresUNet) -> None:
        """Take a trained FresUNet's weights into this wider one (more channels per level, or the
        log-ratio inputs added) so that it gives the same answers, then trains on from there.

        The new channels keep their random initial weights, so they differ from each other and from
        the old ones, and every old channel's weights from a new channel start at zero, so the new
        channels change nothing until training moves those weights (a variant of Net2WiderNet, Chen
        et al. 2016, which copies channels instead and needs noise to tell the copies apart).

        Raises:
            InvalidArgumentError: ``narrower`` has other features or depth, a wider level, more extra
                blocks, other shortcuts, or log-ratio inputs or attention this model lacks; or both have
                attention over coarsest levels of different widths.
        """
        state, old_state = self.state_dict(), narrower.state_dict()
        old_names = set(old_state)
        same = (
            narrower.features == self.features
            and len(narrower.widths) == len(self.widths)
            and all(old <= new for old, new in zip(narrower.widths, self.widths, strict=True))
            and narrower.ratio_inputs <= self.ratio_inputs
            # Attention over the coarsest level cannot grow.
            and (isinstance(narrower.bottleneck, nn.Identity) or narrower.widths[-1] == self.widths[-1])
            # Every old tensor has its place (so the same attention, extra blocks and shortcuts, as a
            # level as wide as its input has none); only attention and extra blocks, which start as the
            # identity, may be new.
            and old_names <= set(state)
            and all(
                name.startswith(("bottleneck.", "encoder_extras.", "decoder_extras."))
                for name in set(state) - old_names
            )
        )
        if not same:
            raise InvalidArgumentError(
                f"Expected a FresUNet that this one extends only by wider levels or log-ratio inputs, "
                f"got widths {narrower.widths} (this: {self.widths}), ratio inputs {narrower.ratio_inputs} "
                f"(this: {self.ratio_inputs}), or other features, blocks or attention."
            )
        # state_dict() tensors share the model's storage, so copying into them sets its weights.
        with torch.no_grad():
            for name, old in old_state.items():
                new = state[name]
                if new.shape == old.shape:
                    new.copy_(old)
                elif old.dim() == 1:  # biases and batch-norm statistics of the old channels
                    new[: old.shape[0]] = old
                else:
                    _grow_weight(name, new, old)

    def _ordered(self, first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
        # channels_last: oneDNN's convolutions run about a quarter faster on the CPU in this layout.
        inputs = [first, second, log_ratio(first, second)] if self.ratio_inputs else [first, second]
        x = torch.cat(inputs, dim=1).contiguous(memory_format=torch.channels_last)
        skips = []
        for index, (encoder, extra) in enumerate(zip(self.encoders, self.encoder_extras, strict=True)):
            if index:
                x = F.max_pool2d(x, 2)
            x = extra(encoder(x))
            skips.append(x)
        skips.pop()
        x = self.bottleneck(x)
        for upsample, decoder, extra in zip(self.upsamplers, self.decoders, self.decoder_extras, strict=True):
            x = extra(decoder(torch.cat([upsample(x), skips.pop()], dim=1)))
        return self.head(x).contiguous()

    def forward(self, reference: torch.Tensor, test: torch.Tensor) -> ChangeOutput:
        height, width = reference.shape[-2:]
        multiple = 2 ** (len(self.widths) - 1)
        pad = (0, -width % multiple, 0, -height % multiple)
        # Both input orders in one batch: rows (reference, test) then rows (test, reference).
        firsts = torch.cat([reference, test], dim=0)
        seconds = torch.cat([test, reference], dim=0)
        logits = self._ordered(F.pad(firsts, pad, mode="replicate"), F.pad(seconds, pad, mode="replicate"))
        logits = logits[..., :height, :width]
        forward, backward = logits.chunk(2, dim=0)
        first_f, second_f, change_f = forward.chunk(3, dim=1)
        first_b, second_b, change_b = backward.chunk(3, dim=1)
        return ChangeOutput(
            seg_ref=(first_f + second_b) / 2,
            seg_test=(second_f + first_b) / 2,
            change=(change_f + change_b) / 2,
        )


def _grow_weight(name: str, new: torch.Tensor, old: torch.Tensor) -> None:
    """Copy a narrower layer's weight into ``new`` in place: old outputs from old inputs as before,
    old outputs from new inputs zero, new outputs as initialised. A decoder block's input is the
    concatenation (upsampled, skip), whose second half moves when the level widens."""
    transposed = name.startswith("upsamplers.")  # ConvTranspose2d weights are (inputs, outputs, k, k)
    into, out = (0, 1) if transposed else (1, 0)
    old_in, new_in = old.shape[into], new.shape[into]
    if name.startswith("decoders.") and (".body.0." in name or ".shortcut.0." in name):
        halves = [(0, 0, old_in // 2), (old_in // 2, new_in // 2, old_in // 2)]
    else:
        halves = [(0, 0, old_in)]
    old_outputs = new.narrow(out, 0, old.shape[out])
    old_outputs.zero_()
    for old_start, new_start, length in halves:
        old_outputs.narrow(into, new_start, length).copy_(old.narrow(into, old_start, length))


# --- ChangeStar-style -----------------------------------------------------------------------------


def _conv_bn_relu(inputs: int, outputs: int, kernel: int = 3) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(inputs, outputs, kernel, padding=kernel // 2, bias=False),
        nn.BatchNorm2d(outputs),
        nn.ReLU(inplace=True),
    )


class ChangeStar(nn.Module):
    """A Siamese encoder shared by both images, a light decoder giving each image's segmentation, and
    a ChangeMixin-style change head on the concatenated decoder features, made temporally symmetric
    as ``head(f1 || f2) + head(f2 || f1)`` (after Zheng et al.).

    The encoder is EfficientNet-Lite0 with its ImageNet weights (strides 2-32); the decoder is a
    feature pyramid: each level projected to ``decoder_channels``, upsampled and summed top-down,
    then refined at stride 2 and upsampled to the input size.
    """

    def __init__(self, features: int, decoder_channels: int = 64, pretrained: bool = True) -> None:
        super().__init__()
        self.features = features
        self.encoder: EfficientNetLite0 = efficientnet_lite0(pretrained=pretrained)
        self.lateral = nn.ModuleList(
            nn.Conv2d(level.channels, decoder_channels, 1) for level in self.encoder.LEVELS
        )
        self.smooth = _conv_bn_relu(decoder_channels, decoder_channels)
        self.segmentation = nn.Sequential(
            _conv_bn_relu(decoder_channels, decoder_channels), nn.Conv2d(decoder_channels, features, 1)
        )
        self.change_mixin = nn.Sequential(
            _conv_bn_relu(2 * decoder_channels, decoder_channels),
            _conv_bn_relu(decoder_channels, decoder_channels),
            nn.Conv2d(decoder_channels, features, 1),
        )

    def _decode(self, images: torch.Tensor) -> torch.Tensor:
        levels = self.encoder.features(images)
        x = self.lateral[-1](levels[-1])
        for lateral, level in zip(reversed(self.lateral[:-1]), reversed(levels[:-1]), strict=True):
            x = F.interpolate(x, size=level.shape[-2:], mode="bilinear", align_corners=False) + lateral(level)
        return self.smooth(x)  # stride 2

    def forward(self, reference: torch.Tensor, test: torch.Tensor) -> ChangeOutput:
        size = reference.shape[-2:]
        decoded = self._decode(torch.cat([reference, test], dim=0))
        first, second = decoded.chunk(2, dim=0)
        segmentation = self.segmentation(decoded)
        change = self.change_mixin(torch.cat([first, second], dim=1)) + self.change_mixin(
            torch.cat([second, first], dim=1)
        )

        def full(x: torch.Tensor) -> torch.Tensor:
            return F.interpolate(x, size=size, mode="bilinear", align_corners=False)

        seg_ref, seg_test = full(segmentation).chunk(2, dim=0)
        return ChangeOutput(seg_ref=seg_ref, seg_test=seg_test, change=full(change))
