#pragma once

#include "inspect/lockrecord.h"
#include "inspect/nodegroup.h"

#include <QLineEdit>
#include <QWidget>
#include <chrono>
#include <optional>
#include <vector>

class QBoxLayout;
class QLabel;

/// Pieces shared by the action dialogs (acquire, extend, force-release, lockctl command).
namespace actionwidgets {

/// The system's fixed-width font, for keys, tokens and values.
QFont monospaceFont();

/// A selectable plain-text label for a value that may be long: elided in the middle to `width`
/// pixels, the whole text in the tooltip.
QLabel *elidedLabel(const QString &text, const QFont &font, int width, QWidget *parent);

/// The group node an entry of `record` belongs to: by label, else by position when the record
/// has one entry per group node (the same rule as Admin). nullptr when none.
const lockscope::inspect::GroupNode *groupNodeFor(const lockscope::inspect::NodeGroup &group,
                                                  const lockscope::inspect::LockRecord &record,
                                                  std::size_t index);

/// Why an owner-checked write (extend, force-release) on `record` cannot go ahead: a node that
/// holds the key is read-only, is not in the group, or no node holds it. Empty when allowed.
QString writeBlockedReason(const lockscope::inspect::LockRecord &record,
                           const lockscope::inspect::NodeGroup &group);

/// What a dialog is about to do, in words, at the top of `layout`: a warning icon (when
/// `warning`, for the writes that destroy), the question in a larger bold `title`, and the
/// wrapped `explanation` beneath it (objectName "explanation"), which is returned.
QLabel *addHeader(QBoxLayout *layout, QWidget *dialog, const QString &title, const QString &explanation,
                  bool warning);

/// The nodes of `group` that hold `record` and are marked production (labels, in record order).
QStringList productionNodesHolding(const lockscope::inspect::LockRecord &record,
                                   const lockscope::inspect::NodeGroup &group);

/// Makes `window` tall enough for its layout at its current width (word-wrapped labels need
/// more height than the layout's minimum says) and keeps it from being shrunk below that.
/// Call after a message appeared or disappeared.
void fitHeight(QWidget *window);

/// "12.5s", "no TTL", "-" for what a record shows.
QString ttlText(qint64 pttlMs);
/// Characters of a value shown in a dialog; the rest is cut, with the whole size said.
inline constexpr qsizetype MaxValueChars = 512;
/// Bytes for a one-line view: escaped (lockscope::displayText), at most MaxValueChars of them.
QString boundedText(const QByteArray &bytes);
/// A node's value for people: the string, or "field=value, ..." for a hash (escaped, bounded).
QString valueText(const lockscope::inspect::RawEntry &raw);

} // namespace actionwidgets

/// A one-line message under a field: a themed icon and wrapped text; hidden while empty.
class InlineMessage : public QWidget
{
    Q_OBJECT

public:
    enum class Kind
    {
        Information,
        Warning,
        Error,
    };

    explicit InlineMessage(QWidget *parent = nullptr);
    void setMessage(const QString &text, Kind kind = Kind::Error);
    void clear() { setMessage({}); }
    QString text() const;
    Kind kind() const { return m_kind; }
    /// Keeps room for `lines` lines of message even while empty, so that a dialog does not
    /// grow and shrink while the operator types (OK stays under the cursor). 0: hidden when empty.
    void reserveLines(int lines);

private:
    QLabel *m_icon = nullptr;
    QLabel *m_text = nullptr;
    Kind m_kind = Kind::Error;
    int m_reservedLines = 0;
};

/// A line edit for a duration ("30s", "5m", "1h", "250ms"), parsed with lockscope::parseDuration.
/// A bare number is refused (30 would silently mean 30 ms). Emits durationChanged on every edit.
class DurationEdit : public QLineEdit
{
    Q_OBJECT

public:
    explicit DurationEdit(QWidget *parent = nullptr);

    /// An empty field is valid and means "none" (duration() is 0) when optional.
    void setOptional(bool optional);
    void setDuration(std::chrono::milliseconds value);
    /// The parsed duration; nullopt when the text is not a valid positive duration.
    std::optional<std::chrono::milliseconds> duration() const;
    /// Why the text is not valid; empty when it is.
    QString errorText() const;

signals:
    void durationChanged();

private:
    bool m_optional = false;
};

/// "Type the key to confirm", for the writes that destroy: why (the production nodes that hold
/// the key; empty when the caller says why itself, e.g. a guessed format), a field for the key
/// as shown (bytes that are not text as \xNN, so that every key can be typed: objectName
/// "typedKey") and a message once what is typed stops being the start of the key. Keeps its
/// height while the operator types.
class TypedKeyConfirmation : public QWidget
{
    Q_OBJECT

public:
    TypedKeyConfirmation(const QByteArray &key, const QStringList &productionNodes,
                         QWidget *parent = nullptr);

    /// What is typed is the key, exactly as shown.
    bool confirmed() const;

signals:
    void changed();

private:
    QString m_shown;
    QLineEdit *m_field = nullptr;
    InlineMessage *m_error = nullptr;
};
