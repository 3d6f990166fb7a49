#pragma once

#include "connectionsdraft.h"

#include <QWidget>

class QCheckBox;
class QFormLayout;
class QGroupBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;

/// The form of one node in the Connections dialog: its URL and the fields it stands for (address,
/// ACL user and password, TLS), the guards, timeouts and colour tag. URL and fields stay in sync
/// as the operator types; a password typed into the URL moves to the password field.
///
/// Edits a copy of the node: setEntry() shows one, entry() is the edited copy, edited() says it
/// changed. Errors that involve other nodes (a duplicate address) come back through setErrors()
/// once the owner has validated the group.
class NodeEditor : public QWidget
{
    Q_OBJECT

public:
    /// How passwords typed here are kept: decides the "Remember in keychain" box and its note.
    struct Storage
    {
        bool store = false;      ///< there is a store at all (else asked at connect)
        bool checking = false;   ///< the store has not answered yet
        bool persistent = false; ///< a working keychain
        QString reason;          ///< why there is no keychain, when known
    };

    explicit NodeEditor(QWidget *parent = nullptr);

    /// Shows `entry` (the URL from its start).
    void setEntry(const DraftNode &entry);
    const DraftNode &entry() const { return m_entry; }
    /// Takes the validated errors of the shown node and shows them under their fields.
    void setErrors(const DraftNode &validated);
    void setStorage(const Storage &storage);
    /// Takes what the store holds for the shown node (it answers after the node is shown).
    void setStored(const std::optional<QString> &stored, bool remember);
    /// Focus on the host, selected: a new node starts there.
    void focusHost();

    /// The colour tag as a filled dot; no tag: an empty icon of the same size (names stay lined up).
    static QIcon colorSwatch(const QString &color);

signals:
    /// entry() changed through the form.
    void edited();

private:
    QWidget *createAddress(QFormLayout *&form);
    QWidget *createGuards(QFormLayout *&form);
    QWidget *createAuthentication(QFormLayout *&form);
    QWidget *createTls(QFormLayout *&form);
    void load(bool keepUrlText);
    void showErrors();
    void showTlsRows();
    void refreshSecretWidgets();
    void onUrlEdited(const QString &text);
    void onUrlFinished();
    void onFieldsEdited();
    void onGuardsEdited();
    void onPasswordEdited(const QString &text);
    void onRememberToggled(bool on);
    void chooseColor();
    void clearColor();

    DraftNode m_entry;
    Storage m_storage;
    bool m_loading = false;

    QLineEdit *m_url = nullptr;
    QLabel *m_urlError = nullptr;
    QLineEdit *m_name = nullptr;
    QLineEdit *m_host = nullptr;
    QLabel *m_hostError = nullptr;
    QLineEdit *m_port = nullptr;
    QLabel *m_portError = nullptr;
    QSpinBox *m_db = nullptr;
    QLineEdit *m_user = nullptr;
    QLineEdit *m_password = nullptr;
    QCheckBox *m_remember = nullptr;
    QLabel *m_secretNote = nullptr;
    QFormLayout *m_authForm = nullptr;
    QFormLayout *m_tlsForm = nullptr;
    QGroupBox *m_tls = nullptr;
    QLineEdit *m_caFile = nullptr;
    QLineEdit *m_caDir = nullptr;
    QLineEdit *m_certFile = nullptr;
    QLineEdit *m_keyFile = nullptr;
    QLabel *m_tlsError = nullptr;
    QLineEdit *m_sni = nullptr;
    QCheckBox *m_verify = nullptr;
    QSpinBox *m_connectTimeout = nullptr;
    QSpinBox *m_commandTimeout = nullptr;
    QCheckBox *m_readOnly = nullptr;
    QCheckBox *m_production = nullptr;
    QPushButton *m_color = nullptr;
    QPushButton *m_clearColor = nullptr;
};
